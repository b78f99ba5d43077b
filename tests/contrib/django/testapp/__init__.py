"""A tiny app for the middleware tests: one model, views that save, raise, roll back."""
