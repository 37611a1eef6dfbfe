/* sizebot treemap page: a zoomable squarified treemap of a size tree (sizebot/render/treemap.py).
   Everything from the data goes into the page as text (textContent, dataset), never as markup. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("sizebot-data").textContent);
  var MAX_DEPTH = 3;     // levels drawn below the focused node
  var HEADER = 17;       // px of a group's title strip
  var MIN_NEST = 36;     // px: smaller rectangles show no children
  var MIN_SIDE = 6;      // px: nested rectangles thinner than this are not drawn (their parent's colour shows)
  var GROUP_HUES = {"machine code": 212, "function metadata (pclntab, funcdata)": 272, "data": 28,
                    "DWARF debug info": 165};

  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function size(n) {
    var sign = n < 0 ? "\u2212" : "", a = Math.abs(n), units = ["KB", "MB", "GB", "TB"];
    if (a < 1000) return sign + a + " B";
    for (var i = 0; i < units.length; i++) {
      var v = a / Math.pow(1000, i + 1);
      if (v < 999.5 || i === units.length - 1)
        return sign + v.toFixed(v < 9.995 ? 2 : v < 99.95 ? 1 : 0) + " " + units[i];
    }
  }
  function exact(n) { return (n < 0 ? "\u2212" : "") + Math.abs(n).toLocaleString("en-US") + " B"; }
  function delta(d) { return d === 0 ? "\u00b10" : (d > 0 ? "+" : "") + size(d); }
  function pct(x) { return (x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1) + "%"; }
  function hash(s) { var x = 0; for (var i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0; return x; }

  // Parent links, depth, layout value (removed items keep their old size so they stay visible).
  function prepare(root, diff) {
    var all = [];
    (function walk(n, parent, depth, hue) {
      n.p = parent; n.depth = depth; all.push(n);
      if (depth === 1) hue = GROUP_HUES.hasOwnProperty(n.n) ? GROUP_HUES[n.n] : null;
      if (n.k === "module" && hue !== null) hue = hue + (Math.abs(hash(n.n)) % 36) - 18;
      n.hue = hue;
      if (n.o === undefined) n.o = diff ? 0 : n.v;
      var sum = 0, sumv = 0;
      if (n.c) for (var i = 0; i < n.c.length; i++) { walk(n.c[i], n, depth + 1, hue); sum += n.c[i].lv; sumv += n.c[i].v; }
      n.lv = n.c && n.c.length ? sum + Math.max(0, n.v - sumv) : (diff ? (n.v || n.o) : n.v);
    })(root, null, 0, null);
    return all;
  }
  function key(n) { return n.k === "function" && n.p ? n.p.n + "." + n.n : n.n; }
  function path(n) { var out = []; for (; n && n.p; n = n.p) out.unshift(n.n); return out; }

  // Squarified layout (Bruls, Huizing, van Wijk): values sorted descending, all > 0.
  function squarify(vals, x, y, w, hgt) {
    var rects = [], i = 0, total = 0, k;
    for (k = 0; k < vals.length; k++) total += vals[k];
    while (i < vals.length && total > 0 && w > 0 && hgt > 0) {
      var scale = (w * hgt) / total, side = Math.min(w, hgt), j = i, row = 0, best = Infinity;
      var first = vals[i] * scale;
      while (j < vals.length) {
        var a = vals[j] * scale, s = row + a;
        var worst = Math.max(side * side * first / (s * s), (s * s) / (side * side * a));
        if (worst > best) break;
        best = worst; row = s; j++;
      }
      var thick = row / side, off = 0;
      for (k = i; k < j; k++) {
        var len = vals[k] * scale / thick;
        rects.push(w >= hgt ? [x, y + off, thick, len] : [x + off, y, len, thick]);
        off += len;
      }
      if (w >= hgt) { x += thick; w -= thick; } else { y += thick; hgt -= thick; }
      total -= row / scale; i = j;
    }
    while (rects.length < vals.length) rects.push([x, y, 0, 0]);
    return rects;
  }

  function color(n, diff) {
    var light = Math.min(88, 42 + n.depth * 9);
    if (!diff) {
      if (n.k === "unattributed" || n.hue === null) return "hsl(220,6%," + Math.min(90, light + 18) + "%)";
      return "hsl(" + n.hue + "," + (n.k === "other" ? 22 : 55) + "%," + light + "%)";
    }
    if (n.v === n.o) return "hsl(220,8%," + Math.min(92, light + 22) + "%)";
    var r = Math.abs(n.v - n.o) / Math.max(n.v, n.o), l = Math.round(88 - 40 * Math.min(1, 0.25 + r));
    return n.v > n.o ? "hsl(2,72%," + l + "%)" : "hsl(135,48%," + l + "%)";
  }

  function Treemap(host, tree, opts) {
    var self = this;
    this.diff = !!opts.diff; this.root = tree; this.focus = tree; this.hit = null; this.query = "";
    this.nodes = prepare(tree, this.diff);
    var bar = h("div", "bar");
    this.crumbs = h("nav", "crumbs"); this.crumbs.setAttribute("aria-label", "zoom path");
    var search = h("div", "search");
    this.input = h("input"); this.input.type = "search"; this.input.placeholder = "search functions, packages, modules (/)\u2026";
    this.input.setAttribute("aria-label", "search");
    this.results = h("ol", "results"); this.results.hidden = true;
    search.appendChild(this.input); search.appendChild(this.results);
    bar.appendChild(this.crumbs); bar.appendChild(search);
    this.map = h("div", "map"); this.map.tabIndex = 0;
    host.appendChild(bar); host.appendChild(this.map);
    this.map.addEventListener("click", function (ev) {
      var n = self.nodeAt(ev.target); if (!n) return;
      if (n.c && n.c.length && n !== self.focus) self.zoom(n); else { self.hit = n; self.render(); }
    });
    this.map.addEventListener("contextmenu", function (ev) {
      if (self.focus.p) { ev.preventDefault(); self.zoom(self.focus.p); }
    });
    this.map.addEventListener("mousemove", function (ev) { self.tip(self.nodeAt(ev.target), ev); });
    this.map.addEventListener("mouseleave", function () { tip.hidden = true; });
    this.map.addEventListener("keydown", function (ev) {
      if ((ev.key === "Escape" || ev.key === "Backspace") && self.focus.p) { self.zoom(self.focus.p); ev.preventDefault(); }
    });
    document.addEventListener("mousedown", function (ev) {  // a click elsewhere closes the results
      if (!search.contains(ev.target)) self.results.hidden = true;
    });
    this.input.addEventListener("focus", function () { if (self.results.childNodes.length) self.results.hidden = false; });
    var timer = null;
    this.input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { self.search(); }, 120); });
    this.input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { self.search(); var first = self.found && self.found[0]; if (first) self.reveal(first); }
      if (ev.key === "Escape") { self.input.value = ""; self.search(); }
    });
    this.render();
  }
  Treemap.prototype.nodeAt = function (target) {
    var e = target && target.closest ? target.closest(".r") : null;
    return e ? this.drawn[+e.dataset.i] : null;
  };
  Treemap.prototype.zoom = function (n) { this.focus = n; this.hit = null; this.render(); this.map.focus({preventScroll: true}); };
  Treemap.prototype.reveal = function (n) {
    this.focus = n.p || n; this.hit = n; this.results.hidden = true; this.render();
  };
  Treemap.prototype.search = function () {
    var q = this.input.value.trim().toLowerCase(), self = this;
    this.query = q; this.results.textContent = ""; this.found = [];
    if (q.length < 2) { this.results.hidden = true; this.render(); return; }
    for (var i = 0; i < this.nodes.length; i++) {
      var n = this.nodes[i];
      if (n.p && key(n).toLowerCase().indexOf(q) >= 0) this.found.push(n);
    }
    this.found.sort(function (a, b) { return Math.max(b.v, b.o) - Math.max(a.v, a.o); });
    var shown = this.found.slice(0, 40);
    shown.forEach(function (n) {
      var li = h("li"), b = h("button", "result");
      b.appendChild(h("span", "name", key(n)));
      b.appendChild(h("span", "where", path(n.p).slice(1).join(" \u203a ")));
      b.appendChild(h("span", "size", self.diff ? size(n.o) + " \u2192 " + size(n.v) : size(n.v)));
      b.addEventListener("click", function () { self.reveal(n); });
      li.appendChild(b); self.results.appendChild(li);
    });
    if (!shown.length) this.results.appendChild(h("li", "none", "no match"));
    else if (this.found.length > shown.length) this.results.appendChild(h("li", "none", (this.found.length - shown.length) + " more"));
    this.results.hidden = false;
    this.render();
  };
  Treemap.prototype.render = function () {
    var self = this, map = this.map;
    map.textContent = ""; this.drawn = []; tip.hidden = true;
    var w = map.clientWidth, hgt = map.clientHeight;
    this.frag = document.createDocumentFragment();
    this.draw(this.focus, 0, 0, w, hgt, 1);
    map.appendChild(this.frag);
    this.crumbs.textContent = "";
    var chain = []; for (var n = this.focus; n; n = n.p) chain.unshift(n);
    chain.forEach(function (c, i) {
      if (i) self.crumbs.appendChild(h("span", "sep", "\u203a"));
      var b = h("button", "crumb", (i === 0 ? "\u2302 " : "") + c.n + " \u00b7 " + (self.diff ? size(c.o) + " \u2192 " + size(c.v) : size(c.v)));
      b.addEventListener("click", function () { self.zoom(c); });
      self.crumbs.appendChild(b);
    });
  };
  Treemap.prototype.draw = function (node, x, y, w, hgt, depth) {
    var kids = (node.c || []).filter(function (c) { return c.lv > 0; });
    if (!kids.length) return;
    var rects = squarify(kids.map(function (c) { return c.lv; }), x, y, w, hgt);
    for (var i = 0; i < kids.length; i++) {
      var n = kids[i], r = rects[i];
      if (depth > 1 && (r[2] < MIN_SIDE || r[3] < MIN_SIDE)) continue;
      var e = h("div", "r d" + depth + " k-" + n.k);
      e.dataset.i = String(this.drawn.length); this.drawn.push(n);
      e.dataset.name = n.n;
      e.style.cssText = "left:" + r[0] + "px;top:" + r[1] + "px;width:" + Math.max(0, r[2]) + "px;height:" +
        Math.max(0, r[3]) + "px;background:" + color(n, this.diff);
      if (this.diff && n.v === 0 && n.o > 0) e.classList.add("removed");
      if (this.diff && n.o === 0 && n.v > 0) e.classList.add("added");
      if (n === this.hit) e.classList.add("hit");
      if (this.query && key(n).toLowerCase().indexOf(this.query) >= 0) e.classList.add("match");
      var nest = n.c && n.c.length && depth < MAX_DEPTH && r[2] > MIN_NEST && r[3] > MIN_NEST + HEADER;
      if (r[2] > 34 && r[3] > 13) {
        var label = h("span", nest ? "head" : "label", n.n);
        if (r[3] > (nest ? 13 : 28) && r[2] > 50)
          label.appendChild(h("span", "sz", (nest ? " " : "") + (this.diff ? delta(n.v - n.o) + " \u00b7 " + size(n.v) : size(n.v))));
        e.appendChild(label);
      }
      this.frag.appendChild(e);
      if (nest) this.draw(n, r[0] + 2, r[1] + HEADER, r[2] - 4, r[3] - HEADER - 2, depth + 1);
    }
  };
  Treemap.prototype.tip = function (n, ev) {
    if (!n) { tip.hidden = true; return; }
    var root = this.root, lines = [];
    tip.textContent = "";
    tip.appendChild(h("div", "tpath", path(n).join(" \u203a ")));
    if (n.d) lines.push(n.d);
    if (this.diff) {
      var d = n.v - n.o;
      lines.push("old " + exact(n.o) + "  \u2192  new " + exact(n.v));
      lines.push((n.o === 0 ? "added: " : n.v === 0 ? "removed: " : "change: ") + (d > 0 ? "+" : "") + exact(d) +
        (n.o && n.v ? " (" + (d > 0 ? "+" : "") + pct(d / n.o) + ")" : ""));
    } else {
      lines.push(exact(n.v) + " (" + size(n.v) + ")");
      lines.push(pct(n.v / Math.max(1, root.v)) + " of the file" + (n.p && n.p !== root ? ", " + pct(n.v / Math.max(1, n.p.v)) + " of " + n.p.n : ""));
    }
    lines.push(n.k + (n.c && n.c.length ? " \u00b7 " + n.c.length + " parts \u00b7 click to zoom in" : ""));
    lines.forEach(function (l) { tip.appendChild(h("div", "", l)); });
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14, tw = tip.offsetWidth, th = tip.offsetHeight;
    if (x + tw > window.innerWidth - 4) x = Math.max(4, ev.clientX - tw - 10);
    if (y + th > window.innerHeight - 4) y = Math.max(4, ev.clientY - th - 10);
    tip.style.left = x + "px"; tip.style.top = y + "px";
  };

  // ---- the page ----------------------------------------------------------------------------
  var tip = document.getElementById("tip");
  var head = document.getElementById("summary"), main = document.getElementById("maps");
  function kv(parent, pairs) {
    var dl = h("dl", "kv");
    pairs.forEach(function (p) { if (p[1] === null || p[1] === undefined || p[1] === "") return; dl.appendChild(h("dt", "", p[0])); dl.appendChild(h("dd", "", p[1])); });
    parent.appendChild(dl);
  }
  function notes(parent, list) {
    if (!list || !list.length) return;
    var ul = h("ul", "notes"); list.forEach(function (t) { ul.appendChild(h("li", "", t)); }); parent.appendChild(ul);
  }
  function legend(parent, diff) {
    var box = h("div", "legend");
    var items = diff ? [["hsl(2,72%,55%)", "grew"], ["hsl(135,48%,55%)", "shrank"], ["hsl(220,8%,80%)", "unchanged"],
                        ["removed", "removed (drawn at its old size)"]]
                     : [["hsl(212,55%,55%)", "machine code"], ["hsl(272,55%,55%)", "function metadata"],
                        ["hsl(28,55%,55%)", "data"], ["hsl(165,55%,55%)", "DWARF"], ["hsl(220,6%,75%)", "unattributed"]];
    items.forEach(function (it) {
      var s = h("span", "sw" + (it[0] === "removed" ? " removed" : ""));
      if (it[0] !== "removed") s.style.background = it[0];
      box.appendChild(s); box.appendChild(h("span", "lg", it[1]));
    });
    box.appendChild(h("span", "hint", "area = bytes \u00b7 click to zoom in; right-click, Esc or the path to zoom out \u00b7 hover for exact sizes"));
    parent.appendChild(box);
  }
  function side(s) { return s ? [s.format, s.goos && s.goos + "/" + s.goarch, s.go_version].filter(Boolean).join(" \u00b7 ") : ""; }

  document.addEventListener("keydown", function (ev) {  // "/" goes to the (first) search box
    if (ev.key === "/" && document.activeElement && document.activeElement.tagName !== "INPUT") {
      var box = document.querySelector(".search input");
      if (box) { ev.preventDefault(); box.focus(); }
    }
  });
  var S = DATA.summary || {}, single = DATA.kind !== "report";
  if (DATA.kind === "analyze") {
    head.appendChild(h("h1", "", S.path || "binary"));
    kv(head, [["size", exact(S.file_size || 0) + " (" + size(S.file_size || 0) + ")"], ["binary", side(S)],
              ["attributed", typeof S.coverage === "number" ? pct(S.coverage) : null], ["stripped", S.stripped ? "yes" : "no"],
              ["packed", S.packed || null]]);
    notes(head, S.notes);
  } else if (DATA.kind === "diff") {
    var o = S.old || {}, nw = S.new || {};
    head.appendChild(h("h1", "", (o.path || "old") + " \u2192 " + (nw.path || "new")));
    kv(head, [["size", exact(o.file_size || 0) + " \u2192 " + exact(nw.file_size || 0)],
              ["change", (S.delta > 0 ? "+" : "") + exact(S.delta || 0) + (o.file_size ? " (" + (S.delta > 0 ? "+" : "") + pct((S.delta || 0) / o.file_size) + ")" : "")],
              ["old", side(o)], ["new", side(nw)],
              ["modules added", (S.added_modules || []).join(", ")], ["modules removed", (S.removed_modules || []).join(", ")]]);
    notes(head, (o.notes || []).concat(nw.notes || []));
  } else {
    var verdict = String(S.verdict || "unknown");
    var top = h("div", "verdict v-" + verdict.replace(/[^a-z]/g, ""));
    top.appendChild(h("strong", "", "sizebot: " + verdict));
    if (S.repo) top.appendChild(h("span", "", " \u00b7 " + S.repo));
    head.appendChild(top);
    var b = S.base || {}, hd = S.head || {};
    kv(head, [["base", [b.ref, (b.sha || "").slice(0, 12), b.subject].filter(Boolean).join(" \u00b7 ")],
              ["head", [hd.ref, (hd.sha || "").slice(0, 12), hd.subject].filter(Boolean).join(" \u00b7 ")]]);
    if (S.budgets && S.budgets.length) {
      var t = h("table", "budgets"), tr = h("tr");
      ["", "budget", "build", "level", "result"].forEach(function (c) { tr.appendChild(h("th", "", c)); });
      t.appendChild(tr);
      S.budgets.forEach(function (r) {
        var row = h("tr", "s-" + String(r.status || "").replace(/[^a-z]/g, ""));
        row.appendChild(h("td", "st", r.status));
        row.appendChild(h("td", "", r.rule)); row.appendChild(h("td", "", r.subject)); row.appendChild(h("td", "", r.level));
        row.appendChild(h("td", "", (r.message || "") + (r.override_reason ? " (overridden: " + r.override_reason + ")" : "")));
        t.appendChild(row);
      });
      head.appendChild(t);
    }
    notes(head, S.notes);
  }
  var anyDiff = (DATA.maps || []).some(function (m) { return m.tree && m.tree.o !== undefined; });
  legend(head, anyDiff);

  (DATA.maps || []).forEach(function (m) {
    var box = h("section", "build" + (single ? " single" : ""));
    if (m.title) {
      box.appendChild(h("h2", "", m.title));
      kv(box, [["base", m.base_status === "ok" ? exact(m.base_size || 0) : m.base_status],
               ["head", m.head_status === "ok" ? exact(m.head_size || 0) : m.head_status],
               ["change", typeof m.delta === "number" ? (m.delta > 0 ? "+" : "") + exact(m.delta) : null]]);
      notes(box, m.errors);
    }
    main.appendChild(box);
    if (!m.tree) { box.appendChild(h("p", "empty", "no binary to show")); return; }
    var host = h("div", "treemap"); box.appendChild(host);
    function fit() {  // a page with one treemap: the treemap fills the window
      if (single) host.style.height = Math.max(420, window.innerHeight - host.getBoundingClientRect().top - 12) + "px";
    }
    fit();
    var tm = new Treemap(host, m.tree, {diff: m.tree.o !== undefined});
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer); timer = setTimeout(function () { fit(); tm.render(); }, 100);
    });
  });
})();
