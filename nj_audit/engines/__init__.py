"""Alternative execution engines for the audit (the default engine is `nj_audit.audit.run_audit`)."""
