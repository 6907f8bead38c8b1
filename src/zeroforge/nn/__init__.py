"""Networks: the Leela Zero residual tower and its variants."""
