"""Template filters of the credit pages: the portal's one number format (governance.templatetags.numbers),
kept loadable under its old name for the templates that `{% load credits %}`."""

from django import template

from governance.templatetags.numbers import credits, negate, number

register = template.Library()
register.filter("credits", credits)
register.filter("negate", negate)
register.filter("number", number)
