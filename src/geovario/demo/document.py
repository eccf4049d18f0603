"""A tiny document model rendered twice: Markdown, and self-contained HTML.

The Markdown links the PNGs beside it; the HTML embeds them, so the report opens
anywhere without a folder of assets.
"""

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Document:
    """Headings, paragraphs, tables, preformatted text and images, in order."""

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """A section heading."""
        self.blocks.append(("h2", text))

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text."""
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """A table: header cells and rows of cells."""
        self.blocks.append(("table", header, rows))

    def pre(self, text: str) -> None:
        """Preformatted text (settings, JSON)."""
        self.blocks.append(("pre", text))

    def image(self, path: Path, caption: str) -> None:
        """A PNG figure with its caption."""
        self.blocks.append(("img", Path(path), caption))

    def markdown(self, relative_to: Path) -> str:
        """Markdown; images are linked relative to the report's folder."""
        out = [f"# {self.title}", ""]
        for kind, *rest in self.blocks:
            if kind == "h2":
                out += [f"## {rest[0]}", ""]
            elif kind == "p":
                out += [rest[0], ""]
            elif kind == "pre":
                out += ["```", rest[0], "```", ""]
            elif kind == "table":
                header, rows = rest
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out += ["| " + " | ".join(row) + " |" for row in rows]
                out.append("")
            else:
                path, caption = rest
                out += [f"![{caption}]({path.relative_to(relative_to)})", "", f"*{caption}*",
                        ""]
        return "\n".join(out)

    def html(self) -> str:
        """One self-contained HTML page (images as data URIs)."""
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for kind, *rest in self.blocks:
            if kind == "h2":
                body.append(f"<h2>{html.escape(rest[0])}</h2>")
            elif kind == "p":
                body.append(f"<p>{html.escape(rest[0])}</p>")
            elif kind == "pre":
                body.append(f"<pre>{html.escape(rest[0])}</pre>")
            elif kind == "table":
                header, rows = rest
                cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
                lines = [f"<tr>{cells}</tr>"] + [
                    "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows]
                body.append("<table>" + "".join(lines) + "</table>")
            else:
                path, caption = rest
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(f'<figure><img alt="{html.escape(caption)}" '
                            f'src="data:image/png;base64,{data}"><figcaption>'
                            f"{html.escape(caption)}</figcaption></figure>")
        style = ("body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
                 "padding:4px 8px;text-align:right}th{background:#f3f3f3}img{max-width:100%}"
                 "pre{background:#f7f7f7;padding:1em;overflow:auto}figcaption{color:#555}")
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>"
                f"{html.escape(self.title)}</title><style>{style}</style></head><body>"
                + "\n".join(body) + "</body></html>\n")
