"""The single web page: HTML, CSS and JavaScript, inline so they ship inside the wheel.

No framework, no CDN: the page posts the chosen photo to ``/predict`` with ``fetch``
and draws one numbered marker per guess over the equirectangular world map (see
:mod:`geovario.serve.worldmap`), positioned in percent of the map so it scales with
the window. Every text from the server is set with ``textContent``, never as HTML.
"""

import html
from string import Template

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>geovario: where was this photo taken?</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/app.css">
</head>
<body data-top-k="$top_k" data-max-bytes="$max_bytes">
<header>
<h1>Where was this photo taken?</h1>
<p class="about">Run on <code>$backbone</code> features, guessing among the
<code>$gallery</code> gallery ($gallery_size places). Everything runs on this server.</p>
</header>
<main>
<section class="controls">
<form id="upload">
<label>Photo <input type="file" id="image" name="image" accept="image/*"></label>
<label>Guesses <input type="number" id="top-k" min="1" max="$max_k" value="$top_k"></label>
<button type="submit" id="locate">Locate</button>
</form>
<p id="status" role="status">Choose a photo (at most $max_mb MB).</p>
<img id="preview" alt="the photo being located" hidden>
</section>
<section class="world">
<div id="map"><img id="world" src="/static/world.jpg" width="$map_width" height="$map_height"
alt="world map"><div id="markers"></div></div>
<p class="credit">Map: NASA Blue Marble Next Generation (2004), equirectangular.</p>
<table id="predictions" hidden>
<thead><tr><th>#</th><th>Latitude</th><th>Longitude</th><th>Probability</th>
<th>Nearest place</th></tr></thead>
<tbody></tbody>
</table>
</section>
</main>
<script src="/static/app.js"></script>
</body>
</html>
""")

CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, sans-serif; color: #1b1f24; background: #f4f5f7; }
header { padding: 14px 24px; background: #0b2545; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .about { margin: 0; color: #c9d6e8; }
header code { color: #fff; }
main { display: flex; flex-wrap: wrap; gap: 20px; padding: 20px 24px; align-items: flex-start; }
.controls { flex: 0 1 340px; min-width: 280px; }
.world { flex: 1 1 600px; min-width: 320px; }
form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
form label { display: flex; gap: 6px; align-items: center; }
#top-k { width: 4em; }
button { padding: 6px 18px; font: inherit; background: #13315c; color: #fff; border: 0;
         border-radius: 4px; cursor: pointer; }
button:disabled { background: #8a99ad; cursor: wait; }
#status { min-height: 1.4em; }
#status.error { color: #b00020; font-weight: 600; }
#preview { display: block; max-width: 100%; max-height: 260px; margin: 8px 0 12px;
           border-radius: 4px; box-shadow: 0 1px 4px rgba(0, 0, 0, .3); }
#preview[hidden], table[hidden] { display: none; }
table { border-collapse: collapse; width: 100%; max-width: 1350px; margin-top: 12px;
        background: #fff; }
th, td { padding: 4px 8px; border-bottom: 1px solid #dde1e6; text-align: right; }
th:last-child, td:last-child { text-align: left; }
tbody tr:first-child { font-weight: 600; }
#map { position: relative; width: 100%; max-width: 1350px; line-height: 0; }
#world { width: 100%; height: auto; border-radius: 4px; }
#markers { position: absolute; inset: 0; }
.marker { position: absolute; width: 24px; height: 24px; margin: -12px 0 0 -12px;
          border-radius: 50%; border: 2px solid #fff; background: #f2c14e; color: #1b1f24;
          font: 700 12px/20px system-ui, sans-serif; text-align: center;
          box-shadow: 0 0 0 1px rgba(0, 0, 0, .6), 0 2px 6px rgba(0, 0, 0, .6); }
.marker.best { background: #e4572e; color: #fff; width: 30px; height: 30px;
               margin: -15px 0 0 -15px; line-height: 26px; }
.credit { margin: 6px 0 0; color: #5c6670; font-size: 12px; }
"""

JS = """
"use strict";
const maxBytes = Number(document.body.dataset.maxBytes);
const form = document.getElementById("upload");
const input = document.getElementById("image");
const topK = document.getElementById("top-k");
const button = document.getElementById("locate");
const statusLine = document.getElementById("status");
const preview = document.getElementById("preview");
const markers = document.getElementById("markers");
const table = document.getElementById("predictions");
const rows = table.querySelector("tbody");

preview.addEventListener("error", () => { preview.hidden = true; });  // e.g. TIFF

function say(text, isError) {
  statusLine.textContent = text;
  statusLine.className = isError ? "error" : "";
}

function clearResults() {
  markers.replaceChildren();
  rows.replaceChildren();
  table.hidden = true;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
}

function show(predictions) {
  clearResults();
  predictions.forEach((p, i) => {
    const marker = document.createElement("div");
    marker.className = i === 0 ? "marker best" : "marker";
    marker.style.left = ((p.longitude + 180) / 360 * 100) + "%";
    marker.style.top = ((90 - p.latitude) / 180 * 100) + "%";
    marker.style.zIndex = String(predictions.length - i);
    marker.textContent = String(i + 1);
    marker.title = (i + 1) + ". " + p.place + " (" + (100 * p.probability).toFixed(1) + " %)";
    markers.append(marker);
    const row = document.createElement("tr");
    cell(row, String(i + 1));
    cell(row, p.latitude.toFixed(4));
    cell(row, p.longitude.toFixed(4));
    cell(row, (100 * p.probability).toFixed(1) + " %");
    cell(row, p.place);
    rows.append(row);
  });
  table.hidden = predictions.length === 0;
}

function message(answer, response) {
  if (answer && typeof answer.detail === "string") return answer.detail;  // every API error
  return "the server answered " + response.status + " " + response.statusText;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = input.files[0];
  if (!file) { say("Choose a photo first.", true); return; }
  if (file.size > maxBytes) {
    clearResults();
    say(file.name + " is larger than " + (maxBytes / 1048576).toFixed(1) + " MB.", true);
    return;
  }
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  const body = new FormData();
  body.append("image", file);
  button.disabled = true;
  say("Locating " + file.name + " ...", false);
  try {
    const response = await fetch("/predict?top_k=" + encodeURIComponent(topK.value),
                                 { method: "POST", body: body });
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw new Error(message(answer, response));
    show(answer.predictions);
    say("Top " + answer.predictions.length + " guesses for " + file.name + " in " +
        Math.round(answer.elapsed_ms) + " ms.", false);
  } catch (error) {
    clearResults();
    preview.hidden = true;
    say("Error: " + error.message, true);
  } finally {
    button.disabled = false;
  }
});
"""


def render_page(*, backbone: str, gallery: str, gallery_size: int, top_k: int, max_k: int,
                max_bytes: int, map_size: tuple[int, int]) -> str:
    """The page's HTML with the server's settings filled in (escaped)."""
    values = {"backbone": backbone, "gallery": gallery, "gallery_size": f"{gallery_size:,}",
              "top_k": top_k, "max_k": max_k, "max_bytes": max_bytes,
              "max_mb": f"{max_bytes / 2**20:g}", "map_width": map_size[0],
              "map_height": map_size[1]}
    return _PAGE.substitute({key: html.escape(str(value)) for key, value in values.items()})
