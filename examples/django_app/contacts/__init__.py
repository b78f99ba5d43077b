"""A contact form that creates Salesforce contacts, and a page listing them."""
