/* The object page: fetch the panels after the page, draw the light curve, swap the cutouts. */
(function () {
  "use strict";
  var script = document.getElementById("object-js");
  var objectId = script.dataset.objectId;
  var BAND_COLORS = { g: "#2a9d3b", r: "#d1495b", i: "#7b5ea7" };
  var state = { data: null };

  function panelError(el, retryFn, message) {
    el.innerHTML = "";
    var box = document.createElement("div");
    box.className = "error";
    box.textContent = "This panel could not be loaded (" + message + "). ";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button small";
    retry.textContent = "Retry";
    retry.onclick = retryFn;
    box.appendChild(retry);
    el.appendChild(box);
  }

  function loadPanel(el, url) {
    fetch(url, { headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) { el.innerHTML = html; el.dataset.loaded = "true"; })
      .catch(function (err) { panelError(el, function () { loadPanel(el, url); }, err.message); });
  }

  // -- cutouts --------------------------------------------------------------------------------
  function showCutouts(candid, date) {
    document.querySelectorAll("img.cutout").forEach(function (img) {
      var url = "/api/v1/cutouts?objectId=" + encodeURIComponent(objectId) + "&kind=" + img.dataset.kind;
      if (candid) { url += "&candid=" + candid; }
      img.classList.remove("missing");
      img.src = url;
    });
    var caption = document.getElementById("cutout-caption");
    caption.textContent = candid ? "alert " + candid + (date ? " · " + date : "") : "latest alert";
    document.querySelectorAll("#alerts tr[data-candid]").forEach(function (tr) {
      tr.classList.toggle("selected", tr.dataset.candid === String(candid));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".show-cutouts");
    if (button) { showCutouts(button.dataset.candid, button.dataset.date); }
    var copy = event.target.closest("button.copy");
    if (copy) {
      var text = document.getElementById(copy.dataset.copy).innerText;
      var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        document.execCommand("copy"); document.body.removeChild(area); done();
      }
    }
  });

  // -- light curve ----------------------------------------------------------------------------
  function traces(data, options) {
    var p = data.points, out = [];
    var yKey = options.mode === "flux" ? "flux" : options.mode;
    var errKey = { mag: "err", dcmag: "dcerr", flux: "fluxerr" }[options.mode];
    ["g", "r", "i"].forEach(function (band) {
      var kinds = [["valid", "alerts"]];
      if (options.badquality) { kinds.push(["badquality", "bad quality"]); }
      kinds.forEach(function (kind) {
        var x = [], y = [], e = [], c = [];
        for (var k = 0; k < p.jd.length; k++) {
          if (p.band[k] !== band || p.tag[k] !== kind[0] || p[yKey][k] === null) { continue; }
          x.push(p.date[k]); y.push(p[yKey][k]); e.push(p[errKey][k]); c.push(p.candid[k]);
        }
        if (!x.length) { return; }
        out.push({
          x: x, y: y, customdata: c, type: "scatter", mode: "markers",
          name: band + " " + kind[1], legendgroup: band,
          error_y: { type: "data", array: e, visible: true, thickness: 1, width: 0, color: BAND_COLORS[band] },
          marker: kind[0] === "valid"
            ? { color: BAND_COLORS[band], size: 8, line: { width: 1, color: "#fff" } }
            : { color: BAND_COLORS[band], size: 7, symbol: "circle-open", opacity: 0.6 },
          hovertemplate: "%{x}<br>" + band + " = %{y:.3f} ± %{error_y.array:.3f}<extra>" + kind[1] + "</extra>"
        });
      });
      if (options.upperlim && options.mode !== "flux") {
        var x = [], y = [];
        for (var k = 0; k < p.jd.length; k++) {
          if (p.band[k] === band && p.tag[k] === "upperlim" && p.limit[k] !== null) { x.push(p.date[k]); y.push(p.limit[k]); }
        }
        if (x.length) {
          out.push({
            x: x, y: y, type: "scatter", mode: "markers", name: band + " upper limits", legendgroup: band,
            marker: { color: BAND_COLORS[band], symbol: "triangle-down-open", size: 7, opacity: 0.45 },
            hovertemplate: "%{x}<br>" + band + " > %{y:.2f}<extra>upper limit</extra>"
          });
        }
      }
    });
    return out;
  }

  function draw() {
    var el = document.getElementById("lightcurve");
    if (!state.data || !window.Plotly) { return; }
    var options = {
      mode: document.getElementById("lc-mode").value,
      upperlim: document.getElementById("lc-upperlim").checked,
      badquality: document.getElementById("lc-badquality").checked
    };
    var data = traces(state.data, options);
    var yTitle = { mag: "difference magnitude", dcmag: "apparent (DC) magnitude", flux: "difference flux [µJy]" }[options.mode];
    var layout = {
      margin: { l: 60, r: 20, t: 10, b: 50 }, height: 420, hovermode: "closest",
      xaxis: { title: { text: "date (UTC)" }, gridcolor: "#eef0f3" },
      yaxis: { title: { text: yTitle }, autorange: options.mode === "flux" ? true : "reversed", gridcolor: "#eef0f3", zeroline: options.mode === "flux" },
      legend: { orientation: "h", y: -0.18 },
      plot_bgcolor: "#fff", paper_bgcolor: "#fff",
      font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12 }
    };
    el.innerHTML = "";
    Plotly.react(el, data, layout, { responsive: true, displaylogo: false }).then(function () {
      var n = data.reduce(function (sum, t) { return sum + t.x.length; }, 0);
      el.dataset.points = String(n);
      el.dataset.ready = "true";
    });
    if (!el.dataset.clickBound) {
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { showCutouts(point.customdata, point.x); }
      });
      el.dataset.clickBound = "true";
    }
  }

  function loadLightcurve() {
    var el = document.getElementById("lightcurve");
    fetch(el.dataset.src, { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok && r.status !== 404) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        state.data = data;
        var c = data.counts;
        document.getElementById("lc-counts").textContent =
          c.valid + " alerts, " + c.upperlim + " upper limits, " + c.badquality + " bad-quality points" +
          (data.truncated ? " (cut at the row cap)" : "") + ". Click a point to see its stamps.";
        if (!data.points.jd.length) { el.innerHTML = "<p class='muted'>No photometry.</p>"; return; }
        whenPlotly(draw);
      })
      .catch(function (err) { panelError(el, loadLightcurve, err.message); });
  }

  function whenPlotly(fn) {
    if (window.Plotly) { fn(); return; }
    var tries = 0;
    var timer = setInterval(function () {
      if (window.Plotly || ++tries > 200) { clearInterval(timer); if (window.Plotly) { fn(); } }
    }, 50);
  }

  ["lc-mode", "lc-upperlim", "lc-badquality"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", draw);
  });

  document.querySelectorAll("[data-panel-src]").forEach(function (el) { loadPanel(el, el.dataset.panelSrc); });
  loadLightcurve();
})();
