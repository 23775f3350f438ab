//! The portable schema shared by SQLite and PostgreSQL. Written by hand: only the types
//! `MultiConnection` supports (Text, BigInt, Integer, Bool, Timestamp) appear here.

diesel::table! {
    enterprises (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        require_totp -> Bool,
        time_zone -> Text,
        legal_name -> Nullable<Text>,
        tax_id -> Nullable<Text>,
        address -> Nullable<Text>,
        contact_name -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        suspended -> Bool,
    }
}

diesel::table! {
    merchants (id) {
        id -> Text,
        enterprise_id -> Text,
        merchant_number -> BigInt,
        name -> Text,
        secret_md5 -> Text,
        checkvalue_mode -> Text,
        response_variant -> Text,
        two_stage_allowed -> Bool,
        test_mode -> Bool,
        payment_means -> Text,
        currencies -> Text,
        payment_currency -> Text,
        payment_timeout_secs -> BigInt,
        confirm_window_secs -> BigInt,
        url_return -> Nullable<Text>,
        url_return_ok -> Nullable<Text>,
        url_return_no -> Nullable<Text>,
        notification_url -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        webhook_url -> Nullable<Text>,
        webhook_secrets -> Nullable<Text>,
        tech_email -> Nullable<Text>,
        deadline_policy -> Text,
        min_amount -> Nullable<BigInt>,
        max_amount -> Nullable<BigInt>,
        daily_cap -> Nullable<BigInt>,
        after_payment -> Text,
        rsa_public_key -> Nullable<Text>,
        signature_required -> Bool,
        notification_protocol -> Text,
        customer_emails -> Bool,
        staff_emails -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        enterprise_id -> Nullable<Text>,
        login -> Text,
        password_hash -> Text,
        role -> Text,
        webservices -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        account_role -> Text,
        merchant_scope -> Text,
        amount_limit -> Nullable<BigInt>,
        limit_currency -> Nullable<Text>,
        email -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        totp_last_step -> Nullable<BigInt>,
        must_change_password -> Bool,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    exchange_rates (id) {
        id -> Text,
        from_currency -> Text,
        to_currency -> Text,
        rate -> Text,
        valid_from -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        merchant_id -> Text,
        order_number -> Text,
        billnumber -> Text,
        state -> Text,
        original_amount -> BigInt,
        original_currency -> Text,
        amount -> BigInt,
        currency -> Text,
        rate -> Text,
        delay -> Bool,
        test_mode -> Bool,
        comment -> Nullable<Text>,
        language -> Text,
        lastname -> Nullable<Text>,
        firstname -> Nullable<Text>,
        middlename -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        country -> Nullable<Text>,
        city -> Nullable<Text>,
        zip -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        url_return -> Nullable<Text>,
        url_return_ok -> Nullable<Text>,
        url_return_no -> Nullable<Text>,
        payment_means -> Text,
        card_brand -> Nullable<Text>,
        authorized -> BigInt,
        confirmed -> BigInt,
        released -> BigInt,
        voided -> BigInt,
        refunded -> BigInt,
        settled -> BigInt,
        next_seq -> Integer,
        expires_at -> Timestamp,
        confirm_deadline -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        card_last4 -> Nullable<Text>,
    }
}

diesel::table! {
    operations (id) {
        id -> Text,
        order_id -> Text,
        seq -> Integer,
        kind -> Text,
        state -> Text,
        amount -> BigInt,
        currency -> Text,
        response_code -> Nullable<Text>,
        message -> Nullable<Text>,
        approval_code -> Nullable<Text>,
        card_mask -> Nullable<Text>,
        card_brand -> Nullable<Text>,
        cardholder -> Nullable<Text>,
        card_expiry -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        cancel_reason -> Nullable<Integer>,
        external_refund_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        actor -> Nullable<Text>,
    }
}

diesel::table! {
    settlement_batches (id) {
        id -> Text,
        currency -> Text,
        state -> Text,
        item_count -> Integer,
        total -> BigInt,
        accepted_total -> BigInt,
        rejected_count -> Integer,
        processor_ref -> Nullable<Text>,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    transactions (id) {
        id -> Text,
        order_id -> Text,
        operation_id -> Text,
        kind -> Text,
        state -> Text,
        amount -> BigInt,
        currency -> Text,
        parent_id -> Nullable<Text>,
        processor_ref -> Nullable<Text>,
        response_code -> Nullable<Text>,
        batch_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        topic -> Text,
        merchant_id -> Text,
        order_id -> Nullable<Text>,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        available_at -> Timestamp,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> Text,
        outbox_id -> Text,
        attempt -> Integer,
        status -> Nullable<Integer>,
        outcome -> Text,
        detail -> Nullable<Text>,
        started_at -> Timestamp,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        lease_until -> Timestamp,
        last_run_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(merchants -> enterprises (enterprise_id));
diesel::joinable!(orders -> merchants (merchant_id));
diesel::joinable!(operations -> orders (order_id));
diesel::joinable!(transactions -> operations (operation_id));
diesel::joinable!(transactions -> settlement_batches (batch_id));
diesel::joinable!(outbox -> merchants (merchant_id));
diesel::joinable!(delivery_attempts -> outbox (outbox_id));

diesel::allow_tables_to_appear_in_same_query!(
    enterprises,
    merchants,
    users,
    exchange_rates,
    orders,
    operations,
    settlement_batches,
    transactions,
    outbox,
    delivery_attempts,
    job_leases,
);

diesel::table! {
    api_keys (id) {
        id -> Text,
        merchant_id -> Text,
        name -> Text,
        key_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (merchant_id, idempotency_key) {
        merchant_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        merchant_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        actor_kind -> Text,
        actor -> Text,
        action -> Text,
        outcome -> Text,
        detail -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
        enterprise_id -> Nullable<Text>,
    }
}

diesel::joinable!(api_keys -> merchants (merchant_id));
diesel::joinable!(idempotency_keys -> merchants (merchant_id));
diesel::allow_tables_to_appear_in_same_query!(api_keys, merchants);
diesel::allow_tables_to_appear_in_same_query!(idempotency_keys, merchants);
// The hosted checkout (issue 3).

diesel::table! {
    checkout_pages (token) {
        token -> Text,
        order_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    checkout_nonces (nonce) {
        nonce -> Text,
        order_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    checkout_settings (merchant_id) {
        merchant_id -> Text,
        frame_ancestors -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(checkout_pages -> orders (order_id));
diesel::joinable!(checkout_nonces -> orders (order_id));
diesel::joinable!(checkout_settings -> merchants (merchant_id));
diesel::allow_tables_to_appear_in_same_query!(checkout_pages, checkout_nonces, checkout_settings, orders);
diesel::allow_tables_to_appear_in_same_query!(checkout_settings, merchants);
diesel::allow_tables_to_appear_in_same_query!(checkout_pages, merchants);

// The merchant account (issue 4).
diesel::table! {
    account_sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        stage -> Text,
        kind -> Text,
    }
}

diesel::table! {
    account_sign_ins (login) {
        login -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_nonces (nonce) {
        nonce -> Text,
        session_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(account_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(account_sessions, users);

diesel::table! {
    account_grants (user_id, merchant_id) {
        user_id -> Text,
        merchant_id -> Text,
        role -> Text,
    }
}

diesel::joinable!(account_grants -> users (user_id));
diesel::joinable!(account_grants -> merchants (merchant_id));
diesel::allow_tables_to_appear_in_same_query!(account_grants, users);
diesel::allow_tables_to_appear_in_same_query!(account_grants, merchants);
diesel::allow_tables_to_appear_in_same_query!(account_grants, enterprises);
diesel::allow_tables_to_appear_in_same_query!(account_sessions, enterprises);

// Processing settings (the admin area's Processing page).
diesel::table! {
    processing_settings (id) {
        id -> Integer,
        settlement_cutoffs -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    simulator_settings (merchant_id) {
        merchant_id -> Text,
        latency_ms -> Integer,
        timeout_pct -> Integer,
        late_answer_pct -> Integer,
        error_pct -> Integer,
        decline_pct -> Integer,
        duplicate_pct -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(simulator_settings -> merchants (merchant_id));
diesel::allow_tables_to_appear_in_same_query!(simulator_settings, merchants);

diesel::table! {
    merchant_daily_turnover (merchant_id, day) {
        merchant_id -> Text,
        day -> Text,
        amount -> BigInt,
    }
}

diesel::joinable!(merchant_daily_turnover -> merchants (merchant_id));
diesel::allow_tables_to_appear_in_same_query!(merchant_daily_turnover, merchants);

diesel::table! {
    gateway_signing_key (id) {
        id -> Integer,
        private_key_pem -> Text,
        created_at -> Timestamp,
    }
}
