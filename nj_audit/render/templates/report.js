"use strict";
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  var L = data.labels;
  var table = document.getElementById("table");
  var body = table.tBodies[0];
  var follow = Array.prototype.slice.call(document.querySelectorAll("table.follow tbody"));
  function rows() { return Array.prototype.slice.call(body.rows); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function pct(v) { return v === null || v === undefined ? "/" : (v * 100).toFixed(2) + "%"; }

  // sorting: a click on a header sorts by its data-key; again reverses
  function sortBy(th) {
    var key = th.getAttribute("data-key"), num = th.getAttribute("data-type") === "num";
    var descending = th.getAttribute("aria-sort") !== "descending";
    if (!num && th.getAttribute("aria-sort") !== "ascending") { descending = false; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var sorted = rows().sort(function (a, b) {
      var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key), c;
      c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "zh-CN");
      if (c === 0) { c = parseInt(a.getAttribute("data-i"), 10) - parseInt(b.getAttribute("data-i"), 10); return c; }
      return descending ? -c : c;
    });
    sorted.forEach(function (r) { body.appendChild(r); });
    follow.forEach(function (tb) {
      var byIndex = {};
      Array.prototype.forEach.call(tb.rows, function (r) { byIndex[r.getAttribute("data-i")] = r; });
      sorted.forEach(function (r) { var f = byIndex[r.getAttribute("data-i")]; if (f) { tb.appendChild(f); } });
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    if (th.getAttribute("data-key")) { th.addEventListener("click", function () { sortBy(th); }); }
  });

  // filtering: by name or code, district and status, in every table at once
  var search = document.getElementById("search");
  var district = document.getElementById("district");
  var status = document.getElementById("status");
  var shown = document.getElementById("shown");
  function filter() {
    var q = search.value.trim().toLowerCase(), d = district.value, s = status.value, visible = {}, n = 0;
    rows().forEach(function (r) {
      var ok = (!q || (r.getAttribute("data-label") + " " + r.getAttribute("data-code")).toLowerCase().indexOf(q) >= 0) &&
        (!d || r.getAttribute("data-district") === d) && (!s || r.getAttribute("data-status") === s);
      r.classList.toggle("hidden", !ok);
      if (ok) { visible[r.getAttribute("data-i")] = true; n += 1; }
    });
    follow.forEach(function (tb) {
      Array.prototype.forEach.call(tb.rows, function (r) { r.classList.toggle("hidden", !visible[r.getAttribute("data-i")]); });
    });
    shown.textContent = n + " / " + body.rows.length + " " + L.js_shown;
  }
  [search, district, status].forEach(function (c) { c.addEventListener("input", filter); });
  filter();

  // the drill-down, built from the JSON block with textContent only
  var dialog = document.getElementById("drill");
  var target = document.getElementById("drill-body");
  function cellRow(tr, values, numeric) {
    values.forEach(function (v, i) { tr.appendChild(el(i === 0 ? "th" : "td", v, numeric && i > 0 ? "num" : "")); });
    return tr;
  }
  function section(title, headers, lines) {
    target.appendChild(el("h3", title));
    if (!lines.length) { target.appendChild(el("p", L.js_none, "note")); return null; }
    var t = el("table"), head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", h)); });
    t.appendChild(el("thead")).appendChild(head);
    var tb = t.appendChild(el("tbody"));
    lines.forEach(function (line) { tb.appendChild(line); });
    target.appendChild(t);
    return t;
  }
  function open(i) {
    var inst = data.institutions[i];
    if (!inst) { return; }
    target.textContent = "";
    var h = el("h2", inst.n);
    h.id = "drill-title";
    target.appendChild(h);
    target.appendChild(el("p", [inst.c, inst.d, data.status[inst.s], L.js_days + " " + inst.u + "/" + inst.p].filter(Boolean).join(" · ")));
    section(L.js_forms, [L.js_forms, L.js_rows, L.js_records, L.js_valid, L.js_realtime, L.js_rate], inst.f.map(function (f) {
      return cellRow(el("tr"), [data.forms[f[0]] || f[0], f[1], f[2], f[3], f[4], pct(f[5])], true);
    }));
    section(L.js_delays, [L.js_forms].concat(data.buckets), inst.f.filter(function (f) { return f[6]; }).map(function (f) {
      var tr = el("tr"), most = Math.max.apply(null, f[6].concat([1]));
      tr.appendChild(el("th", data.forms[f[0]] || f[0]));
      f[6].forEach(function (n) {
        var td = el("td", n, "num"), bar = el("span", null, "dbar");
        bar.style.width = Math.round(40 * n / most) + "px";
        td.appendChild(bar);
        tr.appendChild(td);
      });
      return tr;
    }));
    section(L.js_checks, [L.js_forms, L.js_column, L.js_check, L.js_rows], inst.k.map(function (k) {
      var tr = el("tr"), a = el("a", data.forms[k[0]] || k[0]), th = el("th");
      a.href = "#check-" + k[0] + "-" + k[1] + "-" + k[2];
      a.addEventListener("click", function () { dialog.close(); });
      th.appendChild(a);
      tr.appendChild(th);
      [k[1], k[2], k[3]].forEach(function (v, j) { tr.appendChild(el("td", v, j === 2 ? "num" : "")); });
      return tr;
    }));
    section(L.js_flags, [L.js_flags, L.js_severity, L.js_message], inst.g.map(function (g) {
      return cellRow(el("tr"), [g[0], data.status[g[1]] || g[1], g[2]], false);
    }));
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }
  document.getElementById("drill-close").addEventListener("click", function () { dialog.close(); });
  Array.prototype.forEach.call(document.querySelectorAll("a.open"), function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      open(parseInt(a.closest("tr").getAttribute("data-i"), 10));
    });
  });
  var m = /^#inst-(\d+)$/.exec(window.location.hash);
  if (m) { open(parseInt(m[1], 10)); }
})();
