"""Documents keep their file, heading path and page; page furniture is dropped."""

from __future__ import annotations

from fpdf import FPDF

from ingest.documents import DocumentSplitter
from tests.conftest import BUNDLED_KB

splitter = DocumentSplitter(chunk_size=300, chunk_overlap=30)


def test_markdown_chunks_carry_their_heading_path():
    text = "# Returns\n\nIntro.\n\n## Time limit\n\nYou have 30 days.\n\n## Refunds\n\n5 days."
    chunks = splitter.markdown(text, "policies/returns.md")
    by_section = {c.section: c for c in chunks}
    assert "30 days" in by_section["Returns › Time limit"].text
    assert by_section["Returns › Refunds"].title == "Returns"
    assert all(c.source == "policies/returns.md" and c.kind == "document" for c in chunks)


def test_a_heading_with_nothing_under_it_leads_the_next_chunk():
    terms = "The contract runs for 36 months from signing. " * 10
    signed = "Signed for the company by Jo Bloggs, Director. " * 4
    text = (
        f"# Contract with Acme\n\n---\n\n## Terms\n\n{terms}\n\n"
        f"## Support\n\nEmail the desk.\n\n## Signatures\n\n{signed}"
    )
    chunks = DocumentSplitter(chunk_size=300, chunk_overlap=30).markdown(text, "acme.md")
    first = chunks[0]
    # The title (a rule under it) and "## Terms" (parted by the size splitter from a first
    # paragraph too long to share a chunk with it) lead the first piece of text.
    assert first.section == "Contract with Acme › Terms"
    assert first.text.startswith("# Contract with Acme") and "36 months" in first.text
    assert sum(c.section == "Contract with Acme › Terms" for c in chunks) > 1
    # A short section beside others stays apart, as an FAQ's answers do.
    support = next(c for c in chunks if "Email the desk" in c.text)
    assert support.section == "Contract with Acme › Support" and "Jo Bloggs" not in support.text


def test_indexed_text_carries_folders_file_title_and_headings_once():
    text = "# Staff Record\n\n# Alex Chen\n\n## Career\n\nJoined in April 2020 as an engineer."
    chunks = splitter.markdown(text, "employees/Alex Chen.md")
    career = next(c for c in chunks if "April 2020" in c.text)
    assert career.context == "employees › Alex Chen › Staff Record › Career"
    assert career.indexed_text == f"{career.context}\n{career.text}"
    assert "employees" not in career.text  # stored and shown text is the document's own


def test_a_chunk_id_follows_what_is_embedded():
    def ids(splitter: DocumentSplitter) -> set[str]:
        return {c.id for name in ("a.md", "b.md") for c in splitter.markdown("Same words.", name)}

    assert len(ids(splitter)) == 1  # the text alone is embedded: stored once
    assert len(ids(DocumentSplitter(300, 30, embed_headers=True))) == 2  # two files' headers


def test_chunks_are_numbered_in_file_order():
    text = "# Guide\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(8))
    assert [c.part for c in splitter.markdown(text, "guide.md")] == list(range(8))


def test_long_sections_are_cut_to_size():
    text = "# Guide\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(20))
    chunks = splitter.markdown(text, "guide.md")
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)


def test_html_drops_scripts_styles_and_navigation():
    html = """<html><head><style>.x{color:red}</style><script>var secret=1;</script></head>
    <body><nav>Home | Shop | Basket</nav><h1>About us</h1><p>Family run since 1962.</p>
    <h2>Visit</h2><p>Open 9 till 5.</p><footer>Phone 0161 496 0000</footer></body></html>"""
    chunks = splitter.html(html, "about.html")
    text = " ".join(c.text for c in chunks)
    assert "1962" in text and "Open 9 till 5" in text and "0161 496 0000" in text
    assert "secret" not in text and "color:red" not in text and "Basket" not in text
    assert {c.section for c in chunks} >= {"About us › Visit"}


def test_pdf_pages_are_numbered(tmp_path):
    pdf = FPDF()
    for body in ("Warranty lasts 12 months.", "Resoling costs 45 pounds."):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 10, body)
    chunks = splitter.pdf(bytes(pdf.output()), "warranty.pdf")
    assert [(c.page, "12 months" in c.text) for c in chunks] == [(1, True), (2, False)]


def test_bundled_pdf_and_html_are_read():
    pdfs = list((BUNDLED_KB / "docs").glob("*.pdf"))
    htmls = list((BUNDLED_KB / "docs").glob("*.html"))
    assert pdfs and htmls
    assert splitter.pdf(pdfs[0].read_bytes(), pdfs[0].name)[0].page == 1
    assert splitter.html(htmls[0].read_text(), htmls[0].name)


def test_table_rows_keep_their_headers_and_a_separator_their_cells_lack():
    from ingest.documents import table_rows

    sizes = "| UK | EU |\n| --- | --- |\n| 8 | 42 |\n| 9 | 43 |\n"
    assert table_rows(sizes, "Sizes") == "Sizes: UK 8, EU 42.\nSizes: UK 9, EU 43.\n"
    fees = "| Option | Cost |\n| --- | --- |\n| Post | 3.95, free over 50 |\n| Pick-up | free |\n"
    assert table_rows(fees, "Fees") == (
        "Fees: Option Post; Cost 3.95, free over 50.\nFees: Option Pick-up; Cost free.\n"
    )


def test_html_tables_keep_each_row_with_its_headers_as_markdown_tables_do():
    html = """<html><body><h1>Size guide</h1><h2>Men's sizes</h2>
    <table><thead><tr><th>UK</th><th>EU</th><th>Foot length (cm)</th></tr></thead>
    <tbody><tr><td>9</td><td>43</td><td>27.1</td></tr>
    <tr><td>10</td><td>44.5</td><td>27.9</td></tr></tbody></table>
    <h2>Care</h2><table><tr><td>Suede</td><td>brush dry</td></tr></table>
    </body></html>"""
    markdown = (
        "# Size guide\n\n## Men's sizes\n\n| UK | EU | Foot length (cm) |\n| --- | --- | --- |\n"
        "| 9 | 43 | 27.1 |\n| 10 | 44.5 | 27.9 |\n\n## Care\n\nSuede, brush dry\n"
    )
    chunks = splitter.html(html, "size-guide.html")
    sizes = next(c for c in chunks if c.section == "Size guide › Men's sizes")
    assert "Men's sizes: UK 10, EU 44.5, Foot length (cm) 27.9." in sizes.text.splitlines()
    # The same text, sections and headings as the same guide written in Markdown.
    written = splitter.markdown(markdown, "size-guide.html")
    assert [(c.section, c.text) for c in chunks] == [(c.section, c.text) for c in written]
    # A table without a header row keeps each row on one line.
    assert "Suede, brush dry" in chunks[-1].text.splitlines()
