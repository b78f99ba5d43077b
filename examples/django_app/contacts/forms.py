"""The contact form."""

from __future__ import annotations

from django import forms


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=40, required=False)
    last_name = forms.CharField(max_length=80)
    email = forms.EmailField(max_length=80, required=False)
