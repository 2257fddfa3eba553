/* The object page's Fits card (objects/templates/objects/_fits_panel.html).

   Starts fits with POST /api/v1/fits (session cookie + CSRF token), polls GET /api/v1/fits/<id>
   every 1.5 s until the job is done or failed, and shows the result: the numbers, and a plot
   drawn with the plotly.js Dash already serves from this site (loaded on first use: it is
   4.8 MB and most visits draw no fit). The list of kept fits comes with the page. */
(function () {
  "use strict";
  var card = document.getElementById("fits");
  if (!card) { return; }

  var POLL_MS = 1500;
  var BAND_COLORS = { g: "#2a9d3b", r: "#d1495b", i: "#7b5ea7" };
  var KIND_NAMES = { period: "Period", microlensing: "Microlensing", phase_curve: "Phase curve" };
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var tbody = card.querySelector("table.fit-jobs tbody");
  var statusBox = card.querySelector(".fit-status");
  var resultBox = card.querySelector(".fit-result");
  var jobs = {};          // id -> the job as the API shows it (plus requestedBy from the page)
  var polling = {};       // id -> true while a poll loop runs for it
  var shown = null;       // id of the job whose result is (or will be) shown

  // -- small helpers ---------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k === "className") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c != null) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }

  function isNum(x) { return typeof x === "number" && isFinite(x); }

  /* A value with its error, both to the error's first significant figures. */
  function withError(value, error, unit) {
    if (!isNum(value)) { return "—"; }
    var text;
    if (isNum(error) && error > 0) {
      var digits = Math.max(0, Math.min(10, 1 - Math.floor(Math.log10(error))));
      text = value.toFixed(digits) + " ± " + error.toFixed(digits);
    } else {
      text = fmt(value);
    }
    return unit ? text + " " + unit : text;
  }

  function fmt(value, digits) {
    if (!isNum(value)) { return "—"; }
    if (digits != null) { return value.toFixed(digits); }
    var a = Math.abs(value);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) { return value.toExponential(3); }
    return String(Number(value.toPrecision(a >= 1000 ? 9 : 6)));
  }

  function jdToIso(jd) { return new Date((jd - 2440587.5) * 86400000).toISOString(); }

  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) + " UTC" : "—"; }

  function csrfToken() {
    var input = card.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* The API's error text ("parameters.period_max: must be ..."), else the HTTP status. */
  function errorText(response, body) {
    if (body && body.text) { return body.text; }
    if (body && typeof body === "object") { return JSON.stringify(body); }
    return "HTTP " + response.status;
  }

  function api(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options || {}))
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (body) {
          if (!r.ok) { var err = new Error(errorText(r, body)); err.status = r.status; throw err; }
          return body;
        });
      });
  }

  function say(kind, message) {
    statusBox.className = "fit-status" + (kind ? " " + kind : "");
    statusBox.textContent = message || "";
  }

  // -- the list of kept fits -----------------------------------------------------------------
  function parametersText(job) {
    var p = job.parameters || {};
    if (job.kind === "period") {
      if (p.period != null) { return "fold at " + fmt(p.period) + " d"; }
      return fmt(p.period_min) + " – " + (p.period_max != null ? fmt(p.period_max) : "baseline") + " d";
    }
    if (job.kind === "microlensing") { return p.method + (p.blend ? ", blended" : ", no blend"); }
    if (job.kind === "phase_curve") { return (p.model || "") + " of " + job.objectId; }
    return JSON.stringify(p);
  }

  function statusBadge(job) {
    var label = job.status;
    if (job.status === "queued" || job.status === "running") { label += "…"; }
    return el("span", { className: "fit-badge " + job.status, text: label, title: job.error || "" });
  }

  function renderRow(job) {
    var show = el("button", { type: "button", className: "button small ghost fit-show", "data-job-id": job.id,
      text: job.status === "failed" ? "Why" : "Show" });
    if (job.status !== "done" && job.status !== "failed") { show.disabled = true; }
    // A done period fit: fold the light curve on its period (objects/fold.js, no login needed).
    var period = foldPeriod(job);
    var foldLink = period == null ? null : el("a", { href: "#lightcurve-panel", className: "button small ghost fold-on",
      "data-fold-period": String(period), text: "Fold on this period", title: "Fold the light curve above at " + fmt(period) + " d" });
    var row = el("tr", { "data-job-id": job.id, "data-status": job.status }, [
      el("td", { className: "when", text: when(job.created) }),
      el("td", { text: KIND_NAMES[job.kind] || job.kind }),
      el("td", { className: "params", text: parametersText(job) }),
      el("td", { text: job.requestedBy || "—" }),
      el("td", {}, [statusBadge(job)]),
      el("td", {}, [show, foldLink])
    ]);
    if (String(job.id) === String(shown)) { row.classList.add("selected"); }
    var old = tbody.querySelector("tr[data-job-id='" + job.id + "']");
    if (old) { tbody.replaceChild(row, old); } else { tbody.insertBefore(row, tbody.firstChild); }
    card.querySelector(".fit-none").hidden = true;
  }

  /* The period of a done period fit: from its result once loaded, else as the card was given it. */
  function foldPeriod(job) {
    if (job.kind !== "period" || job.status !== "done") { return null; }
    var fromResult = job.result && job.result.params && job.result.params.period;
    var period = isNum(fromResult) ? fromResult : job.foldPeriod;
    if (!isNum(period) && job.parameters && isNum(job.parameters.period)) { period = job.parameters.period; }
    return isNum(period) ? period : null;
  }

  function remember(job) {
    var previous = jobs[job.id] || {};
    jobs[job.id] = Object.assign({}, previous, job, { requestedBy: job.requestedBy || previous.requestedBy });
    renderRow(jobs[job.id]);
    return jobs[job.id];
  }

  function select(id) {
    shown = id;
    tbody.querySelectorAll("tr").forEach(function (tr) { tr.classList.toggle("selected", tr.dataset.jobId === String(id)); });
  }

  // -- polling --------------------------------------------------------------------------------
  function poll(id) {
    if (polling[id]) { return; }
    polling[id] = true;
    var tick = function () {
      api("/api/v1/fits/" + id).then(function (job) {
        remember(job);
        if (job.status === "done" || job.status === "failed") {
          delete polling[id];
          if (String(shown) === String(id)) { present(job); }
          return;
        }
        if (String(shown) === String(id)) { say("working", KIND_NAMES[job.kind] + " fit #" + id + " " + job.status + "…"); }
        setTimeout(tick, POLL_MS);
      }).catch(function (err) {
        // A network blip: keep trying, a little slower, and say so.
        if (String(shown) === String(id)) { say("error", "Could not read fit #" + id + " (" + err.message + "); retrying…"); }
        setTimeout(tick, POLL_MS * 2);
      });
    };
    tick();
  }

  function open(id) {
    select(id);
    var job = jobs[id];
    if (job && job.result) { present(job); return; }
    say("working", "Loading fit #" + id + "…");
    api("/api/v1/fits/" + id).then(function (full) {
      remember(full);
      if (full.status === "done" || full.status === "failed") { present(full); } else { poll(id); }
    }).catch(function (err) { say("error", "Could not load fit #" + id + ": " + err.message); });
  }

  // -- starting a fit -------------------------------------------------------------------------
  function parametersOf(form) {
    var parameters = {};
    var problems = [];
    form.querySelectorAll("input[type=number]:not(:disabled)").forEach(function (input) {
      var raw = input.value.trim();
      if (!raw) { return; }
      var value = Number(raw);
      if (!isFinite(value) || value <= 0) { problems.push(input.name + ": must be a positive number of days"); return; }
      parameters[input.name] = value;
    });
    form.querySelectorAll("select").forEach(function (select) { parameters[select.name] = select.value; });
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) { parameters[box.name] = box.checked; });
    return { parameters: parameters, problems: problems };
  }

  function start(form) {
    var kind = form.dataset.kind;
    var read = parametersOf(form);
    if (read.problems.length) { say("error", "Not sent — " + read.problems.join("; ")); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say("working", "Asking for a " + KIND_NAMES[kind].toLowerCase() + " fit…");
    api("/api/v1/fits", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ objectId: form.dataset.objectId, kind: kind, parameters: read.parameters })
    }).then(function (job) {
      job = remember(Object.assign({ requestedBy: job.reused ? undefined : card.dataset.username }, job));
      select(job.id);
      if (job.status === "done" || job.status === "failed") {
        present(job, job.reused ? "kept result of an identical fit" : "");
      } else {
        say("working", KIND_NAMES[kind] + " fit #" + job.id + " " + job.status + (job.reused ? " (already asked for)" : "") + "…");
        poll(job.id);
      }
    }).catch(function (err) {
      say("error", (err.status === 400 ? "Not started — " : "The fit could not be started: ") + err.message);
    }).then(function () { button.disabled = false; });
  }

  // -- results --------------------------------------------------------------------------------
  function present(job, note) {
    if (job.status === "failed") {
      resultBox.hidden = true;
      say("error", KIND_NAMES[job.kind] + " fit #" + job.id + " failed: " + (job.error || "no reason given"));
      return;
    }
    var result = job.result || {};
    say("", "");
    resultBox.hidden = false;
    resultBox.dataset.jobId = job.id;
    resultBox.dataset.kind = job.kind;
    resultBox.querySelector(".fit-title").textContent =
      KIND_NAMES[job.kind] + " fit #" + job.id + " · " + parametersText(job) +
      (job.duration != null ? " · " + fmt(job.duration, 1) + " s" : "") + (note ? " · " + note : "");
    var numbers = resultBox.querySelector(".fit-numbers");
    numbers.innerHTML = "";
    (NUMBERS[job.kind] || function () { return []; })(result, job).forEach(function (pair) {
      numbers.appendChild(el("dt", { text: pair[0] }));
      numbers.appendChild(el("dd", { text: pair[1] }));
    });
    var figures = (PLOTS[job.kind] || function () { return []; })(result, job);
    var boxes = resultBox.querySelectorAll(".fit-plot");
    loadPlotly().then(function (Plotly) {
      boxes.forEach(function (box, k) {
        Plotly.purge(box);
        box.hidden = !figures[k];
        if (figures[k]) {
          Plotly.newPlot(box, figures[k].data, layout(figures[k].layout), { responsive: true, displaylogo: false });
        }
      });
      resultBox.dataset.drawn = "true";
    }).catch(function () { say("error", "The plot could not be drawn: plotly.js did not load."); });
  }

  var plotlyPromise = null;
  function loadPlotly() {
    if (window.Plotly) { return Promise.resolve(window.Plotly); }
    if (!plotlyPromise) {
      plotlyPromise = new Promise(function (resolve, reject) {
        var script = el("script", { src: card.dataset.plotlySrc });
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { plotlyPromise = null; reject(new Error("plotly.js")); };
        document.head.appendChild(script);
      });
    }
    return plotlyPromise;
  }

  function layout(extra) {
    return Object.assign({
      margin: { l: 60, r: 15, t: 30, b: 45 },
      hovermode: "closest",
      plot_bgcolor: "#fff",
      paper_bgcolor: "#fff",
      font: { family: FONT, size: 12 },
      legend: { orientation: "h", y: -0.22 },
      height: 380
    }, extra);
  }

  function axis(title, more) { return Object.assign({ title: { text: title }, gridcolor: "#eef0f3", zeroline: false }, more || {}); }

  function bands(obj) { return Object.keys(obj || {}).filter(function (b) { return b in BAND_COLORS; }); }

  function points(name, band, x, y, err, extra) {
    return Object.assign({
      type: "scatter", mode: "markers", name: name, legendgroup: band, x: x, y: y,
      error_y: err ? { type: "data", array: err, visible: true, thickness: 1, width: 0, color: BAND_COLORS[band] } : undefined,
      marker: { color: BAND_COLORS[band], size: 6, opacity: 0.85, line: { width: 0.5, color: "#fff" } }
    }, extra || {});
  }

  function line(name, band, x, y) {
    return { type: "scatter", mode: "lines", name: name, legendgroup: band, x: x, y: y,
      line: { color: BAND_COLORS[band], width: 2.5 }, opacity: 0.9, hoverinfo: "skip" };
  }

  /* Two cycles, so that the shape around phase 0 (maximum light) reads without wrapping. */
  function twoCycles(values, shift) { return values.concat(values.map(function (v) { return v + shift; })); }
  function twice(values) { return values.concat(values); }

  var NUMBERS = {
    period: function (r, job) {
      var p = r.params || {}, e = r.errors || {}, s = r.stats || {};
      var rows = [[job.parameters && job.parameters.period != null ? "Period (typed in)" : "Best period", withError(p.period, e.period, "d")]];
      if (isNum(p.period) && p.period < 1) { rows.push(["", fmt(p.period * 24, 4) + " h"]); }
      var peaks = (s.peaks || []).slice(1);
      if (peaks.length) {
        rows.push(["Other peaks (aliases)", peaks.map(function (k) { return fmt(k.period) + " d (" + fmt(k.power, 3) + ")"; }).join(", ")]);
      }
      if (isNum(s.power)) { rows.push(["Power", fmt(s.power, 3)]); }
      bands(BAND_COLORS).forEach(function (b) {
        if (isNum(p["amplitude_" + b])) { rows.push(["Amplitude " + b, fmt(p["amplitude_" + b], 3) + " mag (mean " + fmt(p["mean_mag_" + b], 2) + ")"]); }
      });
      if (isNum(p.epoch)) { rows.push(["Epoch of maximum", "JD " + fmt(p.epoch, 5)]); }
      rows.push(["χ²/dof", fmt(s.chi2, 1) + " / " + s.dof + (isNum(s.chi2_red) ? " = " + fmt(s.chi2_red, 2) : "")]);
      rows.push(["Points, baseline", s.n_points + " in " + s.n_bands + (s.n_bands === 1 ? " band, " : " bands, ") + fmt(s.baseline_days, 0) + " d"]);
      if (s.search) { rows.push(["Search", s.search + (s.n_frequencies ? ", " + s.n_frequencies + " frequencies" : "")]); }
      return rows;
    },
    microlensing: function (r) {
      var p = r.params || {}, e = r.errors || {}, s = r.stats || {};
      var rows = [
        ["t₀", withError(p.t0, e.t0, "JD") + (isNum(p.t0) ? " (" + jdToIso(p.t0).slice(0, 10) + ")" : "")],
        ["u₀", withError(p.u0, e.u0)],
        ["t_E", withError(p.tE, e.tE, "d")],
        ["A_max", fmt(p.A_max, 3)]
      ];
      bands(BAND_COLORS).forEach(function (b) {
        if (isNum(p["baseline_mag_" + b])) { rows.push(["Baseline " + b, fmt(p["baseline_mag_" + b], 2) + " mag, blend ratio " + fmt(p["blend_ratio_" + b], 2)]); }
      });
      rows.push(["χ²/dof", fmt(s.chi2, 1) + " / " + s.dof + (isNum(s.chi2_red) ? " = " + fmt(s.chi2_red, 2) : "")]);
      rows.push(["RMS residual", fmt(s.rms_residual_mag, 3) + " mag over " + s.n_points + " points"]);
      return rows;
    },
    phase_curve: function (r) {
      var p = r.params || {}, e = r.errors || {}, s = r.stats || {};
      var rows = [];
      Object.keys(p).forEach(function (name) { rows.push([name, withError(p[name], e[name], /^(alpha0|delta0)$/.test(name) ? "deg" : "")]); });
      rows.push(["RMS", fmt(s.rms, 3) + " mag over " + s.n_points + " points"]);
      rows.push(["χ²/dof", fmt(s.chi2, 1) + " / " + s.dof + (isNum(s.chi2_red) ? " = " + fmt(s.chi2_red, 2) : "")]);
      rows.push(["Phase angles", fmt(s.phase_min_deg, 1) + "° – " + fmt(s.phase_max_deg, 1) + "°"]);
      if (s.dropped_bands && s.dropped_bands.length) { rows.push(["Bands left out", s.dropped_bands.join(", ") + " (too few points)"]); }
      return rows;
    }
  };

  var PLOTS = {
    period: function (r) {
      var m = r.model || {}, p = r.params || {}, data = [];
      bands(m.folded).forEach(function (b) {
        var f = m.folded[b];
        data.push(points(b, b, twoCycles(f.phase, 1), twice(f.mag), twice(f.magerr)));
        var c = (m.curve || {})[b];
        if (c) { data.push(line(b + " model", b, twoCycles(c.phase, 1).concat([2]), twice(c.mag).concat([c.mag[0]]))); }
      });
      var figures = [{ data: data, layout: {
        title: { text: "Folded at P = " + fmt(p.period) + " d", font: { size: 13 } },
        xaxis: axis("phase", { range: [0, 2], dtick: 0.25 }),
        yaxis: axis("magnitude", { autorange: "reversed" })
      } }];
      var g = m.periodogram;
      if (g && g.period) {
        figures.push({ data: [
          { type: "scatter", mode: "lines", x: g.period, y: g.power, name: "periodogram", line: { color: "#1f6feb", width: 1 }, showlegend: false },
          { type: "scatter", mode: "markers", x: [p.period], y: [(r.stats || {}).power], name: "best", showlegend: false,
            marker: { color: "#d1495b", size: 9, symbol: "diamond" } }
        ], layout: {
          title: { text: "Periodogram (" + (g.source || "") + ")", font: { size: 13 } },
          xaxis: axis("period [d]", { type: "log", dtick: 1 }),
          yaxis: axis("power", { rangemode: "tozero" })
        } });
      }
      return figures;
    },
    microlensing: function (r) {
      var m = r.model || {}, p = r.params || {}, data = [], resid = [];
      var curve = m.curve || {};
      bands(m.residuals).forEach(function (b) {
        var res = m.residuals[b];
        // The observed magnitudes are the model's plus the residuals: the PSPL of the fitter
        // (fits/fitters/microlensing.py, pyLIMA's zero point 27.4) at the points' times.
        var fs = p["fsource_" + b], fb = p["fblend_" + b] || 0;
        var mags = res.jd.map(function (t, k) {
          var u2 = p.u0 * p.u0 + Math.pow((t - p.t0) / p.tE, 2);
          var a = (u2 + 2) / Math.sqrt(u2 * (u2 + 4));
          return 27.4 - 2.5 * Math.log10(fs * a + fb) + res.residual[k];
        });
        data.push(points(b, b, res.jd.map(jdToIso), mags));
        if (curve[b]) { data.push(line(b + " PSPL", b, curve.jd.map(jdToIso), curve[b])); }
        resid.push(points(b, b, res.jd.map(jdToIso), res.residual, null, { showlegend: false }));
      });
      return [
        { data: data, layout: { title: { text: "Light curve and PSPL model", font: { size: 13 } },
          xaxis: axis("date (UTC)"), yaxis: axis("magnitude", { autorange: "reversed" }) } },
        { data: resid, layout: { title: { text: "Residuals", font: { size: 13 } },
          xaxis: axis("date (UTC)"), yaxis: axis("observed − model [mag]", { zeroline: true }) } }
      ];
    },
    phase_curve: function (r) {
      var m = r.model || {}, data = [], resid = [];
      bands(m.points).forEach(function (b) {
        var pts = m.points[b];
        data.push(points(b, b, pts.phase, pts.mag_red, pts.magerr));
        var c = (m.curve || {})[b];
        if (c) { data.push(line(b + " model", b, c.phase, c.mag_red)); }
        resid.push(points(b, b, pts.phase, pts.residual, null, { showlegend: false }));
      });
      return [
        { data: data, layout: { title: { text: "Reduced magnitude and phase function", font: { size: 13 } },
          xaxis: axis("phase angle [deg]", { rangemode: "tozero" }), yaxis: axis("reduced magnitude", { autorange: "reversed" }) } },
        { data: resid, layout: { title: { text: "Residuals", font: { size: 13 } },
          xaxis: axis("phase angle [deg]", { rangemode: "tozero" }), yaxis: axis("observed − model [mag]", { zeroline: true }) } }
      ];
    }
  };

  // -- wiring ---------------------------------------------------------------------------------
  card.addEventListener("submit", function (event) {
    var form = event.target.closest("form.fit-form");
    if (!form) { return; }
    event.preventDefault();
    start(form);
  });
  card.addEventListener("input", function (event) {
    if (event.target.name !== "period") { return; }
    // A typed-in period only folds (fast); the range applies to a search.
    var form = event.target.form, button = form.querySelector("button[type=submit]");
    var folding = event.target.value.trim() !== "";
    button.textContent = folding ? button.dataset.fold : button.dataset.search;
    form.querySelectorAll("input[name=period_min], input[name=period_max]").forEach(function (i) { i.disabled = folding; });
  });
  card.addEventListener("click", function (event) {
    var show = event.target.closest("button.fit-show");
    if (show) { open(show.dataset.jobId); return; }
    if (event.target.closest("button.fit-close")) {
      resultBox.hidden = true;
      select(null);
      say("", "");
    }
  });

  var initial = JSON.parse(document.getElementById("fit-jobs-data").textContent || "[]");
  initial.slice().reverse().forEach(function (job) {
    remember(job);
    if (job.status === "queued" || job.status === "running") { poll(job.id); }
  });
})();
