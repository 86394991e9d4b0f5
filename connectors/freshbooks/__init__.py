"""FreshBooks connector: clients, items, invoices, payments and credit notes over the FreshBooks API."""
