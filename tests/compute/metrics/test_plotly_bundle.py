"""The vendored plotly.js partial bundle: the same version as the Python package's plotly.js,
and every trace type the portal's charts draw is in it."""

import re
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase
from plotly.offline import get_plotlyjs_version

BUNDLE = Path(settings.BASE_DIR) / "static" / "vendor" / "plotly-basic" / "plotly-basic.min.js"


class PlotlyBundleTests(SimpleTestCase):
    def test_the_bundle_is_the_python_packages_plotly_js_version(self):
        header = BUNDLE.read_text(encoding="utf-8")[:300]
        found = re.search(r"plotly\.js \(basic - minified\) v([0-9.]+)", header)
        self.assertIsNotNone(found, header)
        self.assertEqual(found.group(1), get_plotlyjs_version())

    def test_every_trace_type_the_charts_use_is_in_the_basic_bundle(self):
        used = set()
        for script in (Path(settings.BASE_DIR) / "static" / "js").glob("*.js"):
            used |= set(re.findall(r"type:\s*\"(\w+)\"", script.read_text(encoding="utf-8")))
        timeline = (Path(settings.BASE_DIR) / "roadmap" / "timeline.py").read_text(encoding="utf-8")
        used |= set(re.findall(r"\"type\":\s*\"(\w+)\"", timeline))
        # Axis and shape types share the key; the rest are trace types.
        traces = used - {"date", "category", "linear", "line", "rect", "log"}
        self.assertTrue(traces, used)
        self.assertLessEqual(traces, {"scatter", "bar", "pie"}, used)
