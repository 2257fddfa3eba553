/* The statistics, gravitational-wave and cross-match pages (search/pages.py).

   - Plots: drawn with the plotly.js this site serves (Dash's copy, no CDN) from the JSON the page
     embeds (#statistics-data; #sky-data, drawn by SkyPlot of sky.js).
   - Upload forms (data-inplace): the search is posted in the background and its results replace
     #tool-output, so the chosen file stays in the form and the download buttons (plain submit
     buttons naming an output-format) can post it again. Without JavaScript the form posts as usual.
   - Cross-match: the columns of a chosen CSV file are offered in the column inputs. */
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function jsonOf(root, id) {
    var el = root.querySelector("#" + id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function plotted(el) {
    el.dataset.drawn = "true";
  }

  // -- statistics ------------------------------------------------------------------------------
  function drawStatistics(root) {
    var d = jsonOf(root, "statistics-data");
    if (!d || !window.Plotly) { return; }
    var xaxis = { type: "category", title: { text: d.group }, automargin: true };
    var legend = { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" };
    var nights = document.getElementById("plot-nights");
    Plotly.newPlot(nights, [
      { type: "bar", name: "alerts", x: d.periods, y: d.alerts, marker: { color: "#1f6feb" },
        hovertemplate: "%{x}<br>%{y} alerts<extra></extra>" },
      { type: "scatter", mode: "lines+markers", name: "objects", x: d.periods, y: d.objects,
        marker: { color: "#d1495b", size: 8 }, line: { width: 2 },
        hovertemplate: "%{x}<br>%{y} objects<extra></extra>" }
    ], {
      margin: { l: 55, r: 10, t: 30, b: 40 }, xaxis: xaxis, legend: legend, bargap: 0.35,
      yaxis: { title: { text: "count" }, rangemode: "tozero", automargin: true }
    }, CONFIG).then(function () { plotted(nights); });

    var stack = d.mode === "stack";
    var traces = Object.keys(d.classes).map(function (name) {
      var trace = { name: name, x: d.periods, y: d.classes[name],
                    hovertemplate: "%{x}<br>%{y} " + name.replace(/%/g, "%%") + "<extra></extra>" };
      if (stack) { trace.type = "bar"; } else { trace.type = "scatter"; trace.mode = "lines+markers"; }
      return trace;
    });
    if (stack && d.other.some(function (n) { return n > 0; })) {
      traces.push({ type: "bar", name: "other", x: d.periods, y: d.other, marker: { color: "#c5cbd5" },
                    hovertemplate: "%{x}<br>%{y} of other classes<extra></extra>" });
    }
    var classes = document.getElementById("plot-classes");
    Plotly.newPlot(classes, traces, {
      margin: { l: 55, r: 10, t: 30, b: 40 }, xaxis: xaxis, barmode: "stack", bargap: 0.35,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", traceorder: "normal" },
      yaxis: { title: { text: "alerts" }, rangemode: "tozero", automargin: true }
    }, CONFIG).then(function () { plotted(classes); });
  }

  // -- sky plot (sky.js) -----------------------------------------------------------------------
  function drawSky(root) {
    var d = jsonOf(root, "sky-data");
    var el = document.getElementById("sky-plot");
    if (!d || !el || !window.Plotly || !window.SkyPlot) { return; }
    window.SkyPlot.draw(el, [
      { kind: "region", name: d.title, ra: d.region.ra, dec: d.region.dec, size: d.region.size },
      { kind: "objects", name: "objects found", ra: d.alerts.ra, dec: d.alerts.dec, id: d.alerts.id }
    ]);
  }

  function drawAll(root) {
    drawStatistics(root);
    drawSky(root);
  }

  // -- upload forms answered in place ----------------------------------------------------------
  function inPlace(form) {
    var target = document.querySelector(form.dataset.inplace);
    var status = form.querySelector(".tool-status");
    var run = form.querySelector("button.run");

    function say(text, working) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("working", !!working);
    }

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      var file = form.querySelector("input[type=file]");
      if (submitter && submitter.name === "output-format") {
        // A download: the browser posts the form and saves the answer; this page stays.
        if (file && !file.files.length) {
          event.preventDefault();
          say("Choose the file again to download the result.");
        }
        return;
      }
      event.preventDefault();
      var data = new FormData(form);
      run.disabled = true;
      say(file && file.files.length ? "Uploading " + file.files[0].name + " and searching…" : "Searching…", true);
      target.dataset.state = "working";
      fetch(window.location.pathname, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          return response.text().then(function (html) { return { status: response.status, html: html }; });
        })
        .then(function (answer) {
          var doc = new DOMParser().parseFromString(answer.html, "text/html");
          var fresh = doc.querySelector(form.dataset.inplace);
          if (!fresh) { throw new Error("HTTP " + answer.status); }
          target.innerHTML = fresh.innerHTML;
          target.dataset.state = fresh.dataset.state;
          // Mark the fields the answer found wrong.
          var freshForm = doc.getElementById(form.id);
          form.querySelectorAll(".tool-field").forEach(function (box) {
            var input = box.querySelector("input, select");
            var twin = freshForm && input && freshForm.querySelector("[name='" + input.name + "']");
            var bad = !!(twin && twin.closest(".tool-field").classList.contains("invalid"));
            box.classList.toggle("invalid", bad);
          });
          say("");
          drawAll(target);
          if (fresh.dataset.state === "error") { target.scrollIntoView({ block: "nearest" }); }
        })
        .catch(function (err) {
          target.dataset.state = "error";
          target.innerHTML = "";
          var box = document.createElement("div");
          box.className = "error problems";
          box.setAttribute("role", "alert");
          box.textContent = "The search failed (" + err.message + "). Try again.";
          target.appendChild(box);
          say("");
        })
        .then(function () { run.disabled = false; });
    });
  }

  // -- cross-match: the columns of a CSV file --------------------------------------------------
  var GUESSES = {
    id_column: [/^(id|name|source_?id|object_?id|objectname|designation|source)$/i],
    ra_column: [/^(ra|ra_?deg|raj2000|ra_icrs|radeg|alpha)$/i, /^ra[_ ]/i],
    dec_column: [/^(dec|de|dec_?deg|dej2000|dec_icrs|dedeg|decdeg|delta)$/i, /^dec?[_ ]/i]
  };

  function csvColumns(form) {
    var input = form.querySelector("input[type=file][name=catalog]");
    var list = document.getElementById("catalog-columns");
    var note = document.getElementById("columns-found");
    if (!input || !list) { return; }
    input.addEventListener("change", function () {
      list.innerHTML = "";
      if (note) { note.textContent = ""; }
      var file = input.files[0];
      if (!file) { return; }
      if (!/\.(csv|txt)$/i.test(file.name) && file.type !== "text/csv") {
        if (note) { note.textContent = "— type the names of this file's columns"; }
        return;
      }
      file.slice(0, 65536).text().then(function (text) {
        var line = text.replace(/^\uFEFF/, "").split(/\r?\n/)[0] || "";
        var names = line.split(",").map(function (s) { return s.trim().replace(/^"(.*)"$/, "$1"); })
                        .filter(function (s) { return s; });
        names.forEach(function (name) {
          var option = document.createElement("option");
          option.value = name;
          list.appendChild(option);
        });
        if (note) { note.textContent = names.length ? "— in this file: " + names.join(", ") : ""; }
        Object.keys(GUESSES).forEach(function (field) {
          var box = form.elements[field];
          if (!box || names.indexOf(box.value) >= 0) { return; }
          GUESSES[field].some(function (pattern) {
            var hit = names.filter(function (n) { return pattern.test(n); })[0];
            if (hit) { box.value = hit; }
            return !!hit;
          });
        });
      });
    });
  }

  document.querySelectorAll("form[data-inplace]").forEach(inPlace);
  document.querySelectorAll("#xmatch-form").forEach(csvColumns);
  drawAll(document);
})();
