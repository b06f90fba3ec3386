"""An email body's blocks as MJML (the HTML part) and simple HTML (the text part).

Everything an editor typed is escaped here or was parsed by merge_tags; merge
tags and links become the builder's markers (see emails.rendering). The MJML
keeps to what renders in common clients: one 600 px column of sections, two
columns that stack on phones, bulletproof buttons.
"""

from __future__ import annotations

import html
from typing import Any

from django.utils.translation import gettext as _

from wagtail_journey.conf import journey_settings

TEXT_COLOUR = "#1f2933"
MUTED_COLOUR = "#6b7280"
ACCENT = "#1d4ed8"
FONT = "Helvetica, Arial, sans-serif"
HEADING_SIZES = {"h1": "28px", "h2": "22px", "h3": "18px"}
IMAGE_RENDITION = "width-1200"
# The mj-text sets the size; a heading tag must not scale it again (2em of 28px).
HEADING_STYLE = "margin:0;font-size:inherit;font-weight:inherit;line-height:inherit"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def build(template: Any, b: Any, subject: list, preheader: list) -> tuple[str, str]:
    """(MJML document, HTML for the text part) of ``template``; ``b`` is the builder."""
    sections: list[str] = []
    footers: list[str] = []
    text: list[str] = []
    has_footer = False
    for child in template.body or []:
        kind, value = child.block_type, child.value
        if kind == "footer":
            has_footer = True
            mjml, txt = _footer(b, value, template)
            footers.append(mjml)
            text.append(txt)
            continue
        if kind == "two_columns":
            left, ltxt = _column(b, value["left"])
            right, rtxt = _column(b, value["right"])
            sections.append(
                f"<mj-section padding='8px 16px'><mj-column>{left}</mj-column>"
                f"<mj-column>{right}</mj-column></mj-section>"
            )
            text += [ltxt, rtxt]
            continue
        mjml, txt = _element(b, kind, value)
        sections.append(
            f"<mj-section padding='4px 16px'><mj-column>{mjml}</mj-column></mj-section>"
        )
        text.append(txt)
    if template.is_marketing and not has_footer:
        mjml, txt = _footer(b, None, template)
        footers.append(mjml)
        text.append(txt)
    lang = _attr(template.language or "en")
    document = (
        f"<mjml lang='{lang}'><mj-head>"
        f"<mj-title>{b.text(subject)}</mj-title>"
        f"<mj-preview>{b.text(preheader)}</mj-preview>"
        "<mj-attributes>"
        f"<mj-all font-family='{FONT}'/>"
        f"<mj-text font-size='16px' line-height='1.5' color='{TEXT_COLOUR}' padding='8px 16px'/>"
        f"<mj-button background-color='{ACCENT}' color='#ffffff' font-size='16px' "
        "border-radius='6px' inner-padding='12px 24px' padding='8px 16px'/>"
        "</mj-attributes>"
        f"<mj-style>a {{ color: {ACCENT}; }} h1, h2, h3 {{ margin: 0; }}</mj-style>"
        "</mj-head><mj-body width='600px' background-color='#f3f4f6'>"
        "<mj-wrapper background-color='#ffffff' padding='16px 0'>"
        + "".join(sections)
        + "</mj-wrapper>"
        + "".join(footers)
        + "</mj-body></mjml>"
    )
    return document, "".join(text)


def _column(b: Any, stream: Any) -> tuple[str, str]:
    parts = [_element(b, child.block_type, child.value) for child in stream]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def _element(b: Any, kind: str, value: Any) -> tuple[str, str]:
    """(MJML elements for a column, text-part HTML) of one block."""
    if kind == "heading":
        size = value["size"] if value["size"] in HEADING_SIZES else "h1"
        text = b.plain(value["text"])
        return (
            f"<mj-text align='{_attr(value['align'])}' font-size='{HEADING_SIZES[size]}' "
            f"font-weight='700' line-height='1.25'><{size} style='{HEADING_STYLE}'>{text}"
            f"</{size}></mj-text>",
            f"<{size}>{text}</{size}>",
        )
    if kind == "paragraph":
        rich = b.rich(value.source)
        return f"<mj-text>{rich}</mj-text>", rich
    if kind == "image":
        return _image(b, value["image"], value["alt"], value["link"])
    if kind == "button":
        return _button(b, value["label"], value["url"], value["align"])
    if kind == "divider":
        return (
            "<mj-divider border-color='#e5e7eb' border-width='1px' padding='16px'/>",
            "<p>----------</p>",
        )
    if kind == "card":
        return _card(b, value)
    return "", ""


def _image(b: Any, image: Any, alt: str, link: str) -> tuple[str, str]:
    if image is None:  # deleted from the library since
        return "", ""
    rendition = image.get_rendition(IMAGE_RENDITION)
    from wagtail_journey.links import absolute_url

    src = absolute_url(rendition.url)
    alt = alt or image.title
    attrs = f"src='{_attr(src)}' alt='{_attr(alt)}' padding='8px 16px'"
    text = ""
    if link:
        marker = b.link(link)
        attrs += f" href='{marker}'"
        text = f"<p>{html.escape(alt)}: {marker}</p>"
    return f"<mj-image {attrs}/>", text


def _button(b: Any, label: str, url: str, align: str = "center") -> tuple[str, str]:
    marker = b.link(url)
    text = b.plain(label)
    return (
        f"<mj-button href='{marker}' align='{_attr(align)}'>{text}</mj-button>",
        f"<p>{text}: {marker}</p>",
    )


def _card(b: Any, value: Any) -> tuple[str, str]:
    mjml, text = [], []
    if value["image"] is not None:
        m, t = _image(b, value["image"], value["title"], value["button_url"])
        mjml.append(m)
        text.append(t)
    title = b.plain(value["title"])
    mjml.append(f"<mj-text font-size='20px' font-weight='700'>{title}</mj-text>")
    text.append(f"<h3>{title}</h3>")
    if value["text"] and value["text"].source:
        rich = b.rich(value["text"].source)
        mjml.append(f"<mj-text>{rich}</mj-text>")
        text.append(rich)
    if value["price"]:
        price = html.escape(value["price"])
        mjml.append(
            f"<mj-text font-size='18px' font-weight='700' color='{ACCENT}'>{price}</mj-text>"
        )
        text.append(f"<p>{price}</p>")
    if value["button_url"]:
        m, t = _button(b, value["button_label"] or _("Find out more"), value["button_url"])
        mjml.append(m)
        text.append(t)
    return "".join(mjml), "".join(text)


def _footer(b: Any, value: Any, template: Any) -> tuple[str, str]:
    """The footer: the editor's text, the sender's postal address and, for
    marketing email, the unsubscribe link (its URL comes from the context)."""
    from wagtail_journey.emails.rendering import PREFERENCES_URL, UNSUBSCRIBE_URL

    rich = b.rich(value["text"].source) if value and value["text"] else ""
    address = value["address"] if value else journey_settings.EMAIL_POSTAL_ADDRESS
    address_html = "<br/>".join(html.escape(line) for line in (address or "").splitlines())
    # Every footer links to the recipient's preference centre; marketing adds
    # the one-click unsubscribe link beside it.
    links = [(b.context_url(PREFERENCES_URL), html.escape(_("Manage your preferences")))]
    if template.is_marketing:
        links.insert(0, (b.context_url(UNSUBSCRIBE_URL), html.escape(_("Unsubscribe"))))
    unsubscribe = "<p>" + " · ".join(f"<a href='{m}'>{label}</a>" for m, label in links) + "</p>"
    unsubscribe_text = "".join(f"<p>{label}: {m}</p>" for m, label in links)
    content = f"{rich}<p>{address_html}</p>{unsubscribe}"
    mjml = (
        "<mj-section padding='16px'><mj-column>"
        f"<mj-text font-size='13px' color='{MUTED_COLOUR}' align='center'>{content}</mj-text>"
        "</mj-column></mj-section>"
    )
    return mjml, f"<hr/>{rich}<p>{address_html}</p>{unsubscribe_text}"
