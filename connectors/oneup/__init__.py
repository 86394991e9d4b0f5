"""OneUp (work in progress, NOT registered): error classification and the API-key client only."""
