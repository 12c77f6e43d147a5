"""Writes knowledge_base/docs/warranty-and-repairs.pdf, the bundled PDF document.

A real PDF with a text layer, so the PDF loader is exercised from the first ingest.
The text lives here; the PDF is its committed output.

    .venv/bin/python tools/make_documents.py
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

OUT = (
    Path(__file__).resolve().parent.parent / "knowledge_base" / "docs" / "warranty-and-repairs.pdf"
)

PAGES = [
    (
        "Warranty and Repairs",
        [
            (
                "Our warranty",
                "Every pair of shoes from Cobbler & Co. is guaranteed against "
                "manufacturing faults for 12 months from the date of delivery. Walking boots and "
                "hiking boots are guaranteed for 24 months. The warranty covers faults such as soles "
                "coming away from the upper, broken stitching, faulty zips and eyelets, and "
                "waterproof boots that let water in through the membrane.",
            ),
            (
                "What is not covered",
                "The warranty does not cover normal wear and tear (worn soles "
                "and heels, scuffs and creasing), damage from accidents or misuse, shoes that were "
                "dried on a radiator or washed in a machine, and shoes used for a purpose they were "
                "not designed for, such as wearing fashion trainers for sport.",
            ),
            (
                "How to make a claim",
                "Contact customer service on 0161 496 0000 or at "
                "help@cobblerandco.example with your order number and photos of the fault. We reply "
                "within two working days. If the fault is covered, we send a free returns label and "
                "offer a repair, a replacement pair or a full refund.",
            ),
        ],
    ),
    (
        "Repairs service",
        [
            (
                "Resoling and heels",
                "Our Stockport workshop repairs shoes from any brand. A full "
                "resole of leather-soled shoes costs £45 and takes about 10 working days. Walking "
                "boot resoling costs £65. Replacing worn heel tips costs £12 per pair.",
            ),
            (
                "Other repairs",
                "We also replace zips (£25), restitch seams (from £10) and stretch "
                "shoes that are a little tight (£8 per pair).",
            ),
            (
                "How to send shoes for repair",
                "Bring your shoes to any Cobbler & Co. shop, or post "
                "them to Cobbler & Co. Repairs, 14 Little Underbank, Stockport SK1 1JT, with a note "
                "of your name, phone number and the repair you need. We call with a quote before we "
                "start any work.",
            ),
        ],
    ),
]


def main() -> None:
    pdf = FPDF()
    pdf.set_title("Warranty and Repairs - Cobbler & Co.")
    for title, sections in PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        for heading, text in sections:
            pdf.ln(4)
            pdf.set_font("Helvetica", "B", 13)
            pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
