/* costlab report: the cost tree (sort, collapse, filter, export), chart tooltips and filters, chart export,
   and the network view (laid out by dagre, embedded above). No network access, no dependencies beyond dagre. */
(function () {
  "use strict";
  var tooltip = document.getElementById("tooltip");
  var trees = {};
  var LIMIT = 500;  /* rows shown at once until "show all" (a 10,000-row table stays quick) */

  function num(tr, key) { var v = tr.getAttribute("data-" + key); return v ? parseFloat(v) : 0; }
  function shapeSize(text) {
    var first = (text || "").split(" ")[0];
    if (!first) { return -1; }
    return first.split("x").reduce(function (p, d) { var n = parseInt(d, 10); return isNaN(n) ? p : p * n; }, 1);
  }

  function Tree(table) {
    var self = this;
    this.table = table;
    this.id = table.getAttribute("data-model");
    this.section = table.closest("section");
    this.toolbar = this.section.querySelector(".toolbar[data-model]");
    this.body = table.tBodies[0];
    this.nodes = new Array(this.body.rows.length);
    var cols = {};
    this.cols = cols;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var b = th.querySelector("button.sort");
      if (b) { cols[b.getAttribute("data-key")] = i; }
    });
    Array.prototype.forEach.call(this.body.rows, function (tr) {
      var p = tr.getAttribute("data-parent");
      var node = {
        tr: tr, order: +tr.getAttribute("data-order"), parent: p === "" ? null : +p, name: tr.getAttribute("data-name"),
        op: tr.getAttribute("data-op"), index: tr.getAttribute("data-index"), group: tr.classList.contains("group"),
        zero: tr.classList.contains("zero"), kids: [], toggle: tr.querySelector("button.toggle"),
        macs: num(tr, "macs"), params: num(tr, "params"), acts: num(tr, "acts"), share: num(tr, "share"),
        ms: num(tr, "ms"), tflops: num(tr, "tflops"), roof: num(tr, "roof"),
        status: cols.status !== undefined ? tr.cells[cols.status].textContent : ""
      };
      node.open = node.toggle ? node.toggle.getAttribute("aria-expanded") === "true" : false;
      self.nodes[node.order] = node;
    });
    this.roots = [];
    this.nodes.forEach(function (n) { (n.parent === null ? self.roots : self.nodes[n.parent].kids).push(n); });
    this.leaves = this.nodes.filter(function (n) { return !n.group; }).length;
    /* the page opens as the server wrote it: cost first (MACs, largest first), at most LIMIT rows shown */
    this.state = { key: "macs", dir: -1, text: "", bar: null, hideZero: false, limit: LIMIT };
    this.count = this.toolbar.querySelector(".count");
    this.chip = this.toolbar.querySelector(".chip");
    this.more = this.toolbar.querySelector(".show-all");
    this.bind();
    this.show();
  }

  Tree.prototype.value = function (n, key) {
    switch (key) {
      case "name": return n.name.toLowerCase();
      case "op": return n.op;
      case "in": case "out":
        if (n[key + "Size"] === undefined) { n[key + "Size"] = shapeSize(n.tr.cells[this.cols[key]].textContent); }
        return n[key + "Size"];
      case "status": return n.status;
      case "order": return n.order;
      default: return n[key];
    }
  };

  Tree.prototype.sort = function () {
    var self = this, key = this.state.key, dir = this.state.dir;
    var cmp = function (a, b) {
      var x = self.value(a, key), y = self.value(b, key);
      if (x < y) { return -dir; }
      if (x > y) { return dir; }
      return a.order - b.order;
    };
    var frag = document.createDocumentFragment();
    var walk = function (list) {
      list.slice().sort(cmp).forEach(function (n) { frag.appendChild(n.tr); walk(n.kids); });
    };
    walk(this.roots);
    this.body.appendChild(frag);
    Array.prototype.forEach.call(this.table.tHead.rows[0].cells, function (th) {
      var b = th.querySelector("button.sort");
      if (!b) { return; }
      th.setAttribute("aria-sort", b.getAttribute("data-key") === key ? (dir > 0 ? "ascending" : "descending") : "none");
    });
    this.show();
  };

  Tree.prototype.matches = function (n) {
    var s = this.state;
    if (s.text && n.name.toLowerCase().indexOf(s.text) < 0) { return false; }
    if (s.bar) {
      if (s.bar.kind === "op") { return n.op === s.bar.value; }
      var v = s.bar.value;
      if (!(n.name === v || n.name.indexOf(v + ".") === 0 || n.name.indexOf(v + "#") === 0)) { return false; }
    }
    return true;
  };

  Tree.prototype.passing = function () {
    /* leaves that pass the filters (collapsed or not), and for each node whether it has one below it */
    var self = this, filtering = !!(this.state.text || this.state.bar), hideZero = this.state.hideZero;
    var pass = new Array(this.nodes.length), below = new Array(this.nodes.length);
    for (var i = this.nodes.length - 1; i >= 0; i--) {
      var n = this.nodes[i];
      pass[i] = !n.group && !(hideZero && n.zero) && (!filtering || self.matches(n));
      below[i] = below[i] || pass[i];
      if (below[i] && n.parent !== null) { below[n.parent] = true; }
    }
    return { pass: pass, below: below, filtering: filtering };
  };

  Tree.prototype.show = function () {
    var self = this, p = this.passing(), shown = 0, matched = 0, cut = 0;
    Array.prototype.forEach.call(this.body.rows, function (tr) {
      var i = +tr.getAttribute("data-order"), n = self.nodes[i], visible;
      if (p.filtering) {
        visible = n.group ? p.below[i] : p.pass[i];
      } else {
        visible = !(self.state.hideZero && n.zero) && (n.group ? true : p.pass[i]);
        for (var q = n.parent; visible && q !== null; q = self.nodes[q].parent) { visible = self.nodes[q].open; }
      }
      if (n.toggle) {
        var open = p.filtering || n.open;
        n.toggle.setAttribute("aria-expanded", open ? "true" : "false");
        n.toggle.setAttribute("aria-label", (open ? "collapse " : "expand ") + n.name);
      }
      if (visible && shown >= self.state.limit) { visible = false; cut++; }
      if (n.tr.hidden === visible) { n.tr.hidden = !visible; }
      if (visible) { shown++; }
      if (p.pass[i]) { matched++; }
    });
    this.count.textContent = matched + " of " + this.leaves + " layers match, " + shown + " rows shown";
    this.more.hidden = cut === 0;
    this.more.textContent = "show " + cut + " more rows";
  };

  Tree.prototype.setBar = function (kind, value) {
    this.state.bar = value === null ? null : { kind: kind, value: value };
    this.chip.hidden = value === null;
    this.chip.querySelector(".chip-text").textContent = value === null ? "" : (kind === "op" ? "layer type: " : "block: ") + value;
    this.show();
  };

  Tree.prototype.reveal = function (order) {
    var n = this.nodes[order];
    if (!n) { return; }
    var p = this.passing();
    if (p.filtering && !(n.group ? p.below[order] : p.pass[order])) {
      this.state.text = ""; this.toolbar.querySelector(".filter").value = ""; this.setBar(null, null);
    }
    if (this.state.hideZero && n.zero) { this.state.hideZero = false; this.toolbar.querySelector(".hide-zero").checked = false; }
    for (var q = n.parent; q !== null; q = this.nodes[q].parent) { this.nodes[q].open = true; }
    this.state.limit = Infinity;
    this.show();
    Array.prototype.forEach.call(this.body.querySelectorAll("tr.target"), function (tr) { tr.classList.remove("target"); });
    n.tr.classList.add("target");
    n.tr.scrollIntoView({ block: "center" });
  };

  Tree.prototype.bind = function () {
    var self = this, tb = this.toolbar;
    this.table.tHead.addEventListener("click", function (e) {
      var b = e.target.closest("button.sort");
      if (!b) { return; }
      var key = b.getAttribute("data-key");
      if (self.state.key === key) { self.state.dir = -self.state.dir; } else {
        self.state.key = key; self.state.dir = b.getAttribute("data-type") === "text" ? 1 : -1;
      }
      self.sort();
    });
    this.body.addEventListener("click", function (e) {
      var b = e.target.closest("button.toggle");
      if (!b) { return; }
      var n = self.nodes[+b.closest("tr").getAttribute("data-order")];
      n.open = !(b.getAttribute("aria-expanded") === "true");
      self.show();
    });
    tb.querySelector(".filter").addEventListener("input", function (e) { self.state.text = e.target.value.toLowerCase(); self.show(); });
    tb.querySelector(".hide-zero").addEventListener("change", function (e) { self.state.hideZero = e.target.checked; self.show(); });
    tb.querySelector(".network-order").addEventListener("click", function () { self.state.key = "order"; self.state.dir = 1; self.sort(); });
    tb.querySelector(".expand-all").addEventListener("click", function () { self.nodes.forEach(function (n) { n.open = n.group; }); self.show(); });
    tb.querySelector(".collapse-all").addEventListener("click", function () { self.nodes.forEach(function (n) { n.open = false; }); self.show(); });
    this.more.addEventListener("click", function () { self.state.limit = Infinity; self.show(); });
    tb.querySelector(".clear").addEventListener("click", function () { self.setBar(null, null); });
    Array.prototype.forEach.call(tb.querySelectorAll("button.export"), function (b) {
      b.addEventListener("click", function () { self.exportRows(b.getAttribute("data-format")); });
    });
  };

  /* export: the layers that pass the filters, in the table's order, with the fields of costlab analyze */
  function csvField(v) {
    var s = String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function shapeText(s) { return s.join("x"); }

  /* Counts above 2^53 (a big batch, a long context) lose digits as JavaScript numbers: integers are read
     from their source text as BigInt (JSON.parse's context.source) and written back exactly. */
  function parseExact(text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value === "number" && !Number.isSafeInteger(value) && context && /^-?[0-9]+$/.test(context.source)) {
        return BigInt(context.source);
      }
      return value;
    });
  }
  function stringifyExact(value) {
    return JSON.stringify(value, function (key, v) {
      return typeof v === "bigint" ? (JSON.rawJSON ? JSON.rawJSON(v.toString()) : v.toString()) : v;
    }, 2);
  }

  Tree.prototype.exportRows = function (format) {
    var data = parseExact(this.section.querySelector("script.layers-data").textContent);
    var p = this.passing(), rows = [];
    Array.prototype.forEach.call(this.body.rows, function (tr) {
      var i = +tr.getAttribute("data-order");
      if (p.pass[i]) { rows.push(data.layers[+tr.getAttribute("data-index")]); }
    });
    var text, type;
    if (format === "json") {
      text = stringifyExact({ model: data.model, layers: rows }) + "\n"; type = "application/json";
    } else {
      var lines = ["model,name,op,in_shapes,out_shape,macs,params,biases,activations,formula"];
      rows.forEach(function (l) {
        lines.push([data.model, l.name, l.op, l.in_shapes.map(shapeText).join(" "), shapeText(l.out_shape), l.macs, l.params,
          l.biases, l.activations, l.formula].map(csvField).join(","));
      });
      text = lines.join("\n") + "\n"; type = "text/csv";
    }
    download(new Blob([text], { type: type }), data.model.replace(/[^A-Za-z0-9_.-]+/g, "_") + "." + format);
  };

  function download(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  /* charts: tooltips, click (or Enter) to filter the table, export as SVG or PNG */
  function tip(el, x, y) {
    tooltip.textContent = el.getAttribute("data-tip");
    tooltip.hidden = false;
    var w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    tooltip.style.left = Math.max(4, Math.min(x + 12, window.innerWidth - w - 4)) + "px";
    tooltip.style.top = Math.max(4, Math.min(y + 12, window.innerHeight - h - 4)) + "px";
  }
  function barOf(e) { return e.target.closest ? e.target.closest("[data-tip]") : null; }
  document.addEventListener("mouseover", function (e) { var b = barOf(e); if (b) { tip(b, e.clientX, e.clientY); } });
  document.addEventListener("mousemove", function (e) { var b = barOf(e); if (b) { tip(b, e.clientX, e.clientY); } });
  document.addEventListener("mouseout", function (e) { if (barOf(e)) { tooltip.hidden = true; } });
  document.addEventListener("focusin", function (e) {
    var b = barOf(e);
    if (b) { var r = b.getBoundingClientRect(); tip(b, r.left + r.width / 2, r.top + r.height / 2); }
  });
  document.addEventListener("focusout", function () { tooltip.hidden = true; });

  function applyBar(b) {
    var value = b.getAttribute("data-filter"), kind = b.getAttribute("data-kind");
    if (!value) { return; }
    if (kind === "model") { location.hash = value; return; }
    var section = b.closest("section.model");
    var tree = trees[b.getAttribute("data-target") || (section && section.getAttribute("data-model"))];
    if (!tree) { return; }
    tree.setBar(kind, value);
    tree.toolbar.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("svg .bar");
    if (b) { applyBar(b); return; }
    var x = e.target.closest && e.target.closest("button[data-export]");
    if (x) { exportChart(x.closest("figure").querySelector("svg"), x.getAttribute("data-export")); }
  });
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.classList && e.target.classList.contains("bar")) { e.preventDefault(); applyBar(e.target); }
  });

  var CHART_STYLE = "text{font-family:system-ui,sans-serif} text.in{fill:#fff} line.grid,line.sep{stroke:#d8dee4} rect.hit{fill:transparent}";
  function exportChart(svg, format) {
    var box = svg.getBoundingClientRect();
    var clone = svg.cloneNode(true);
    clone.setAttribute("width", Math.round(box.width));
    clone.setAttribute("height", Math.round(box.height));
    clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    clone.setAttribute("style", "color:#1f2328;background:#fff");
    var style = document.createElementNS("http://www.w3.org/2000/svg", "style");
    style.textContent = CHART_STYLE;
    clone.insertBefore(style, clone.firstChild);
    var text = new XMLSerializer().serializeToString(clone);
    var name = (svg.id || "chart");
    if (format === "svg") { download(new Blob([text], { type: "image/svg+xml" }), name + ".svg"); return; }
    var scale = 2, img = new Image(), canvas = document.createElement("canvas");
    canvas.width = Math.round(box.width * scale); canvas.height = Math.round(box.height * scale);
    img.onload = function () {
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.scale(scale, scale); ctx.drawImage(img, 0, 0);
      canvas.toBlob(function (png) { download(png, name + ".png"); });
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
  }

  /* the network view: dagre lays out the graph when it is first opened */
  /* square-root scale: 12.8M next to 346.8M MACs still reads as about a fifth, and a zero stays pale */
  function shadeOf(value, max) { return max > 0 && value > 0 ? 0.1 + 0.8 * Math.sqrt(value / max) : 0.03; }
  var SVGNS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function drawNetwork(details) {
    var data = JSON.parse(details.querySelector("script.network-data").textContent);
    var box = details.querySelector(".netbox"), id = details.getAttribute("data-model");
    if (!data.nodes.length) { box.textContent = data.note; return; }
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB", nodesep: 16, ranksep: 26, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(function () { return {}; });
    data.nodes.forEach(function (n) { g.setNode(String(n.id), { width: Math.max(70, 7.2 * Math.max(n.label.length, n.text.length * 0.8)) + 14, height: 36 }); });
    data.edges.forEach(function (e) { g.setEdge(String(e[0]), String(e[1])); });
    dagre.layout(g);
    var size = g.graph();
    var svg = el("svg", { width: Math.ceil(size.width), height: Math.ceil(size.height), viewBox: "0 0 " + Math.ceil(size.width) + " " + Math.ceil(size.height) });
    svg.appendChild(el("title", {})).textContent = "layer graph";
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: id + "-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, defs);
    el("path", { d: "M0,0L10,5L0,10z", fill: "currentColor" }, marker);
    g.edges().forEach(function (e) {
      var pts = g.edge(e).points;
      var d = "M" + pts.map(function (p) { return p.x.toFixed(1) + "," + p.y.toFixed(1); }).join("L");
      el("path", { d: d, "class": "edge", "marker-end": "url(#" + id + "-arrow)" }, svg);
    });
    var shapes = [];
    data.nodes.forEach(function (n) {
      var pos = g.node(String(n.id));
      var parent = svg;
      if (n.row !== null) {
        parent = el("a", { href: "#" + id + "-r" + n.row, "class": "netnode", "data-row": n.row, "aria-label": n.name + ": " + n.text }, svg);
      }
      parent.appendChild(el("title", {})).textContent = n.name + " (" + n.op + ")\n" + n.text;
      var rect = el("rect", { x: pos.x - pos.width / 2, y: pos.y - pos.height / 2, width: pos.width, height: pos.height, rx: 4, "class": "node", fill: "#3b73c4" }, parent);
      shapes.push([rect, n]);
      var t = el("text", { x: pos.x, y: pos.y - 3, "text-anchor": "middle" }, parent);
      t.textContent = n.label;
      if (n.text) { var t2 = el("text", { x: pos.x, y: pos.y + 12, "text-anchor": "middle" }, parent); t2.textContent = n.text.split(",")[0]; }
    });
    box.appendChild(svg);
    var select = details.querySelector("select.shade");
    var shade = function () {
      var key = select.value, max = 0;
      data.nodes.forEach(function (n) { max = Math.max(max, n[key]); });
      shapes.forEach(function (s) { s[0].setAttribute("fill-opacity", shadeOf(s[1][key], max).toFixed(3)); });
    };
    select.addEventListener("change", shade);
    shade();
    svg.addEventListener("click", function (e) {
      var a = e.target.closest("a.netnode");
      if (!a) { return; }
      e.preventDefault();
      history.replaceState(null, "", a.getAttribute("href"));
      trees[id].reveal(+a.getAttribute("data-row"));
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.tree"), function (table) { trees[table.getAttribute("data-model")] = new Tree(table); });
  Array.prototype.forEach.call(document.querySelectorAll("details.network"), function (d) {
    d.addEventListener("toggle", function () { if (d.open && !d.getAttribute("data-drawn")) { d.setAttribute("data-drawn", "1"); drawNetwork(d); } });
  });
  function followHash() {
    var m = /^#(m\d+)-r(\d+)$/.exec(location.hash);
    if (m && trees[m[1]]) { trees[m[1]].reveal(+m[2]); }
  }
  window.addEventListener("hashchange", followHash);
  followHash();
}());
