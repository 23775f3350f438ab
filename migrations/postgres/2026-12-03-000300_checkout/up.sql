-- The hosted checkout: an opaque page token per order attempt (the order id never appears in a
-- URL), and the one-time form nonces already spent (a replayed «Charge» finds its nonce here).
CREATE TABLE checkout_pages (
    token TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE checkout_nonces (
    nonce TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX checkout_nonces_order ON checkout_nonces (order_id);

-- A merchant's checkout options: the origins allowed to frame its payment pages (space-separated;
-- no row means no framing at all).
CREATE TABLE checkout_settings (
    merchant_id TEXT PRIMARY KEY NOT NULL REFERENCES merchants (id),
    frame_ancestors TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
