"""One router per resource; ``main`` only includes them."""
