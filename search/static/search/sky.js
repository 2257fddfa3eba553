/* A sky plot with plotly.js (the site's own copy): a Mollweide projection of equatorial
   coordinates, RA growing to the left, centred on RA 180, with a graticule.

   SkyPlot.draw(el, layers, {legend: false}?) draws the layers in order after the graticule and its labels (so
   layer k is trace k + 2):
     {kind: "region", name, ra: [...], dec: [...], size}  squares of `size` degrees (a sky map);
     {kind: "objects", name, ra: [...], dec: [...], id: [...]}  dots, a click opens /<id>.
   It resolves when drawn and marks the element data-drawn="true". Used by the GW page (tools.js)
   and the search results (results.js). */
(function () {
  "use strict";

  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function mollweide(ra, dec) {
    var lambda = (180 - ra) * Math.PI / 180;
    var phi = dec * Math.PI / 180;
    var theta = phi;
    if (Math.abs(phi) < Math.PI / 2 - 1e-9) {
      for (var i = 0; i < 50; i++) {  // Newton on 2θ + sin 2θ = π sin φ
        var f = 2 * theta + Math.sin(2 * theta) - Math.PI * Math.sin(phi);
        theta -= f / (2 + 2 * Math.cos(2 * theta));
        if (Math.abs(f) < 1e-10) { break; }
      }
    }
    return [2 * Math.SQRT2 / Math.PI * lambda * Math.cos(theta), Math.SQRT2 * Math.sin(theta)];
  }

  function project(ras, decs) {
    var x = [], y = [];
    for (var i = 0; i < ras.length; i++) {
      if (ras[i] === null || decs[i] === null) { x.push(null); y.push(null); continue; }
      var p = mollweide(ras[i], decs[i]);
      x.push(p[0]); y.push(p[1]);
    }
    return { x: x, y: y };
  }

  function graticule() {
    var x = [], y = [], k, d, p;
    for (k = 0; k <= 360; k += 60) {  // meridians, every 4 h
      for (d = -90; d <= 90; d += 3) { p = mollweide(k, d); x.push(p[0]); y.push(p[1]); }
      x.push(null); y.push(null);
    }
    for (d = -60; d <= 60; d += 30) {  // parallels
      for (k = 0; k <= 360; k += 3) { p = mollweide(k, d); x.push(p[0]); y.push(p[1]); }
      x.push(null); y.push(null);
    }
    return { type: "scatter", mode: "lines", x: x, y: y, line: { color: "#d5dbe4", width: 1 },
             hoverinfo: "skip", showlegend: false };
  }

  function labels() {
    var x = [], y = [], text = [], p;
    [60, 120, 180, 240, 300].forEach(function (ra) {
      p = mollweide(ra, 0); x.push(p[0]); y.push(p[1] - 0.07); text.push(ra / 15 + "h");
    });
    [-60, -30, 30, 60].forEach(function (dec) {
      p = mollweide(359.9, dec); x.push(p[0] - 0.12); y.push(p[1]); text.push((dec > 0 ? "+" : "") + dec + "°");
    });
    return { type: "scatter", mode: "text", x: x, y: y, text: text, hoverinfo: "skip", showlegend: false,
             textfont: { size: 10, color: "#5b6474" } };
  }

  function trace(layer, width) {
    var xy = project(layer.ra, layer.dec);
    if (layer.kind === "region") {
      return { type: "scatter", mode: "markers", name: layer.name, x: xy.x, y: xy.y, hoverinfo: "skip",
               marker: { symbol: "square", size: Math.max(2, 1.3 * layer.size * width / 360),
                         color: "rgba(31,111,235,.45)" } };
    }
    return {
      type: "scatter", mode: "markers", name: layer.name, x: xy.x, y: xy.y, text: layer.id,
      meta: "objects",
      customdata: layer.ra.map(function (ra, i) { return [ra, layer.dec[i]]; }),
      marker: { size: 9, color: "#d1495b", line: { color: "#fff", width: 1 } },
      hovertemplate: "%{text}<br>RA %{customdata[0]:.4f}, Dec %{customdata[1]:.4f}<extra></extra>"
    };
  }

  function draw(el, layers, options) {
    var legend = !(options && options.legend === false);
    var width = Math.max(el.clientWidth - 20, 200);
    var traces = [graticule(), labels()].concat(layers.map(function (layer) { return trace(layer, width); }));
    var layout = {
      margin: { l: 4, r: 4, t: 4, b: 4 }, hovermode: "closest", dragmode: "zoom",
      xaxis: { visible: false, range: [-2.95, 2.95] },
      yaxis: { visible: false, range: [-1.5, 1.5], scaleanchor: "x" },
      legend: { orientation: "h", x: 0, y: 0, yanchor: "top", itemsizing: "constant" }, plot_bgcolor: "#fff",
      showlegend: legend
    };
    return Plotly.newPlot(el, traces, layout, CONFIG).then(function () {
      el.dataset.drawn = "true";
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.data.meta === "objects") { window.location.href = "/" + point.text; }
      });
    });
  }

  window.SkyPlot = { draw: draw, mollweide: mollweide };
})();
