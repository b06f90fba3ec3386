"""Email: templates (content, merge tags, rendering, click tracking) and delivery."""
