/* The search results page: the sky plot of the result rows (SkyPlot, sky.js) from #results-sky-data. */
(function () {
  "use strict";
  var data = document.getElementById("results-sky-data");
  var el = document.getElementById("sky-plot");
  if (!data || !el || !window.Plotly || !window.SkyPlot) { return; }
  var d = JSON.parse(data.textContent);
  window.SkyPlot.draw(el, [{ kind: "objects", name: "results", ra: d.ra, dec: d.dec, id: d.id }], { legend: false });
})();
