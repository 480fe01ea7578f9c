"""The code version recorded in every manifest's provenance."""

CODE_VERSION = "0.1.0"
