"""CSV for report endpoints: the view hands over rows (header first); errors become key, message rows."""

import io

from rest_framework import renderers

from studies.exports import spreadsheet_writer


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(
            data, dict
        ):  # an error body: {"field": ["message", ...]} or {"detail": "..."}
            data = [["field", "message"]] + [
                [key, message]
                for key, messages in data.items()
                for message in (messages if isinstance(messages, list) else [messages])
            ]
        out = io.StringIO()
        spreadsheet_writer(out).writerows(data or [])
        return out.getvalue().encode(self.charset)
