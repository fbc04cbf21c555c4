from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``{{ mapping|get:key }}``: a dict's value (None when missing or not a dict)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
