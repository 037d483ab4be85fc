"""The rules of the platform, as plain functions; views and the API call these."""
