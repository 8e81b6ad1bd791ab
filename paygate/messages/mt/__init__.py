"""SWIFT MT (FIN) messages: block parser and writer, field rules, MT103/199/940/950."""
