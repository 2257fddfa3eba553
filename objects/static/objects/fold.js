/* The light-curve card's Fold control: redraw the object's detections folded at a typed period,
   in the browser, with no login and no fit job (the Fits card's period search is the job).

   The detections come once from the page URL /objects/<id>/lightcurve.json (not the throttled API);
   the plot is drawn with the plotly.js Dash serves, loaded on first use. Phase is
   ((jd - first jd) / period) mod 1, shown over two cycles: each detection once in [0, 1) and again,
   fainter and without hover, in [1, 2), so the shape around phase 0 reads without wrapping. */
(function () {
  "use strict";
  var form = document.getElementById("fold-form");
  if (!form) { return; }
  var input = document.getElementById("fold-period");
  var unfold = document.getElementById("unfold-button");
  var frame = document.getElementById("lightcurve-frame");
  var box = document.getElementById("lightcurve-folded");
  var status = form.querySelector(".fold-status");
  var BAND_COLORS = { g: "#2a9d3b", r: "#d1495b", i: "#7b5ea7" };
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var detections = null;
  var plotly = null;

  function once(src) {
    if (!plotly) {
      plotly = new Promise(function (resolve, reject) {
        if (window.Plotly) { resolve(window.Plotly); return; }
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { plotly = null; reject(new Error("plotly.js did not load")); };
        document.head.appendChild(script);
      });
    }
    return plotly;
  }

  function loadDetections() {
    if (!detections) {
      detections = fetch(form.dataset.src, { headers: { Accept: "application/json" } }).then(function (r) {
        if (!r.ok) { detections = null; throw new Error("the detections did not load (HTTP " + r.status + ")"); }
        return r.json();
      });
    }
    return detections;
  }

  function say(text) { status.textContent = text; }

  function traces(data, period) {
    var t0 = Math.min.apply(null, data.jd);
    var out = [];
    Object.keys(BAND_COLORS).forEach(function (band) {
      var x = [], y = [], err = [], text = [];
      data.band.forEach(function (b, k) {
        if (b !== band || data.mag[k] == null) { return; }
        var phase = ((data.jd[k] - t0) / period) % 1;
        if (phase < 0) { phase += 1; }
        x.push(phase); y.push(data.mag[k]); err.push(data.err[k] == null ? 0 : data.err[k]);
        text.push("JD " + data.jd[k].toFixed(5));
      });
      if (!x.length) { return; }
      var common = {
        type: "scatter", mode: "markers", legendgroup: band, y: y,
        error_y: { type: "data", array: err, visible: true, thickness: 1, width: 0, color: BAND_COLORS[band] }
      };
      out.push(Object.assign({}, common, {
        name: band, meta: "folded", x: x, text: text,
        hovertemplate: "phase %{x:.3f}<br>" + band + " %{y:.3f} mag<br>%{text}<extra></extra>",
        marker: { color: BAND_COLORS[band], size: 7, opacity: 0.9, line: { width: 0.5, color: "#fff" } }
      }));
      out.push(Object.assign({}, common, {
        name: band + " (next cycle)", meta: "repeat", showlegend: false, hoverinfo: "skip", opacity: 0.4,
        x: x.map(function (v) { return v + 1; }),
        marker: { color: BAND_COLORS[band], size: 7 }
      }));
    });
    return out;
  }

  function fold(period) {
    say("Folding…");
    return Promise.all([loadDetections(), once(form.dataset.plotlySrc)]).then(function (got) {
      var data = got[0], Plotly = got[1];
      if (!data.jd.length) { say("No detection to fold."); return; }
      box.hidden = false;
      frame.hidden = true;
      unfold.hidden = false;
      return Plotly.react(box, traces(data, period), {
        margin: { l: 60, r: 15, t: 30, b: 45 }, height: 420, hovermode: "closest",
        font: { family: FONT, size: 12 }, plot_bgcolor: "#fff", paper_bgcolor: "#fff",
        title: { text: "Folded at " + period + " d (phase 0 at the first detection)", font: { size: 13 }, x: 0.01 },
        xaxis: { title: { text: "phase" }, range: [-0.03, 2.03], gridcolor: "#eef0f3", zeroline: false,
                 dtick: 0.25 },
        yaxis: { title: { text: "magnitude" }, autorange: "reversed", gridcolor: "#eef0f3", zeroline: false },
        legend: { orientation: "h", y: -0.2 },
        shapes: [{ type: "line", x0: 1, x1: 1, yref: "paper", y0: 0, y1: 1, line: { color: "#c5cad3", dash: "dot", width: 1 } }]
      }, { displaylogo: false, responsive: true }).then(function () {
        say(data.jd.length + " detections folded.");
      });
    }).catch(function (err) { say("Could not fold: " + err.message); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var period = parseFloat(input.value);
    if (!(period > 0) || !isFinite(period)) { say("Type a period in days (a positive number)."); input.focus(); return; }
    fold(period);
  });

  unfold.addEventListener("click", function () {
    box.hidden = true;
    frame.hidden = false;
    unfold.hidden = true;
    say("");
  });

  /* The Fits card's "fold on this period" links: fill the input and fold. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-fold-period]");
    if (!link) { return; }
    event.preventDefault();
    input.value = link.dataset.foldPeriod;
    form.requestSubmit();
    document.getElementById("lightcurve-panel").scrollIntoView({ behavior: "smooth", block: "start" });
  });
}());
