"""Real report files written at test time by real writers: a multi-page PDF with an
outline and a table (reportlab), a Word file with heading styles (python-docx) and an
HTML page wrapped in navigation boilerplate. Invented facts, so only these files can
answer questions about them."""

from __future__ import annotations

from pathlib import Path

NAV_PHRASE = "Subscribe to the Pelican newsletter"


def make_pdf(path: Path, pages: int = 2) -> Path:
    """Title and introduction on page 1, "Results" (prose and a table) on page 2, and
    filler pages after that when ``pages`` > 2."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table

    styles = getSampleStyleSheet()

    class Heading(Paragraph):
        def __init__(self, text: str, level: int) -> None:
            super().__init__(text, styles[f"Heading{level + 1}"])
            self.level, self.key = level, text

        def draw(self) -> None:
            super().draw()
            self.canv.bookmarkPage(self.key)
            self.canv.addOutlineEntry(self.key, self.key, self.level)

    body = styles["BodyText"]
    story = [
        Heading("Harbor Systems Review 2031", 0),
        Paragraph(
            "This review covers the Brinefield storage cluster run by the harbor IT team.", body
        ),
        Heading("Introduction", 1),
        Paragraph("The Brinefield cluster serves the port's shipping manifests. " * 6, body),
        PageBreak(),
        Heading("Results", 1),
        Paragraph(
            "The Merganser scheduler reduced queueing delay by 41 percent on the Brinefield "
            "cluster.",
            body,
        ),
        Table(
            [
                ["System", "Latency (ms)", "Throughput"],
                ["Merganser", "12.5", "1,450 req/s"],
                ["Osprey", "19.0", "980 req/s"],
            ]
        ),
    ]
    for n in range(3, pages + 1):
        story += [
            PageBreak(),
            Heading(f"Appendix {n}", 1),
            Paragraph(f"Appendix {n} lists maintenance window {n * 7} of the harbor. " * 8, body),
        ]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def make_blank_pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` empty A4 pages (pypdf): small on disk, long by page count."""
    import pypdf

    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as f:
        writer.write(f)
    return path


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Ferris Lab Annual Report 2030", 0)
    d.add_paragraph("An overview of the Ferris Lab's year of research.")
    d.add_heading("Projects", 1)
    d.add_paragraph("The lab ran two projects this year.")
    d.add_heading("Project Wren", 2)
    d.add_paragraph("Project Wren built a compiler for sparse tensors named Tern.")
    d.add_heading("Project Heron", 2)
    d.add_paragraph("Project Heron measured the energy use of 120 edge devices.")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {
        (0, 0): "Metric",
        (0, 1): "Value",
        (1, 0): "Speedup",
        (1, 1): "3.2x",
    }.items():
        table.cell(r, c).text = text
    d.save(str(path))
    return path


def make_html(path: Path) -> Path:
    path.write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><title>Gull Engine Notes</title><style>body{{color:#222}}</style></head>
<body>
<nav><a href="/">Home</a> <a href="/news">{NAV_PHRASE}</a></nav>
<header><p>Pelican Labs intranet</p></header>
<main>
<h1>Gull Engine Notes</h1>
<p>The <b>Gull</b> engine runs at 40 MHz on the Pelican test board.</p>
<h2>Cooling</h2>
<p>Gull needs no fan because it draws only 2 watts.</p>
</main>
<footer>Copyright Pelican Labs. {NAV_PHRASE}.</footer>
<script>console.log("tracking")</script>
</body></html>
""",
        encoding="utf-8",
    )
    return path
