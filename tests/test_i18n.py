"""ShipBridge in English and French: the catalogue is complete, customer documents follow the
store's language, the interface the user's (the switch in the header, remembered on the account)
or the browser's, dates and amounts are written the language's way, and messages kept in English
(an import's error, a skipped order's reason, a correction's note) are shown in the reader's."""
from collections import Counter
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from orders.importing import attention_words
from orders.shipping import shipment_create
from shipbridge.catalogue import SOURCES, check_catalogues
from stores.i18n import format_amount, render_for_customers, store_language, translated
from stores.models import RefreshStatus, Store, User
from stores.selectors import store_state
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory

NBSP = "\xa0"


# --- the catalogue ----------------------------------------------------------------------------------


def test_the_catalogue_holds_every_marked_string_translated_and_compiles():
    # makemessages over a copy of the sources finds nothing new; nothing is empty, fuzzy or stale;
    # compilemessages runs clean (check_catalogues raises CommandError otherwise)
    reports = check_catalogues()
    assert [r.language for r in reports] == ["fr"]
    problems = {r.language: {k: v for k, v in vars(r).items() if k != "language" and v} for r in reports}
    assert all(r.ok for r in reports), problems


def test_the_catalogue_check_sees_a_string_missing_from_the_catalogue(tmp_path):
    # The check above cannot pass vacuously: a string marked in a new module is reported missing.
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "module.py").write_text('from django.utils.translation import gettext\n'
                                     'gettext("A sentence nobody translated")\n')
    sources = [Path(settings.BASE_DIR) / name for name in SOURCES] + [extra]
    (report,) = check_catalogues(sources=sources)
    assert report.missing == ["A sentence nobody translated"] and not report.obsolete and not report.ok


# --- customer documents: the store's language ---------------------------------------------------------


def _order(store):
    order = OrderFactory(store=store, customer_email="ada@example.test", ship_to_name="Ada")
    OrderItemFactory(order=order, quantity=2, sku="MUG", name="Mug")
    return order


def test_a_french_store_emails_its_customer_in_french_while_the_clerk_works_in_english(
        db, django_capture_on_commit_callbacks, eager_celery):
    store = StoreFactory(notify_customer=True, language="fr", brand_company_name="Chez Ada")
    order = _order(store)
    assert translation.get_language() == "en"
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, carrier="UPS", tracking_number="1ZFR", ship_date=dt.date(2026, 12, 1),
                        notify_store=False)
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert message.subject == f"Votre commande {order.order_number} de Chez Ada a été expédiée"
    for text in (message.body, html):
        assert "Bonjour Ada," in text and "a été expédiée" in text and "1 déc. 2026" in text
        assert "Hello" not in text and "Tracking number" not in text
    assert "Numéro de suivi" in html and "Numéro de suivi" in message.body and 'lang="fr"' in html
    # and the clerk's language is left as it was
    assert translation.get_language() == "en"


def test_an_english_store_emails_in_english_while_the_clerk_works_in_french(db, django_capture_on_commit_callbacks,
                                                                           eager_celery):
    store = StoreFactory(notify_customer=True, brand_company_name="Acme Goods")
    assert store.language == "en"  # the default
    order = _order(store)
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, carrier="UPS", tracking_number="1ZEN", ship_date=dt.date(2026, 12, 1),
                        notify_store=False)
    (message,) = mail.outbox
    assert message.subject == f"Your order {order.order_number} from Acme Goods has shipped"
    assert "Hello Ada," in message.body and "Dec. 1, 2026" in message.body and "Bonjour" not in message.body


def test_store_language_is_the_hook_for_other_customer_documents():
    # (the packing slip view renders inside it)
    template = Template("{% load i18n %}{% translate 'Tracking number' %} · {{ day|date }}")
    context = Context({"day": dt.date(2026, 12, 1)})
    with store_language(StoreFactory.build(language="fr")):
        assert template.render(context) == "Numéro de suivi · 1 déc. 2026"
    with translation.override("fr"), store_language(StoreFactory.build(language="en")):
        assert template.render(context) == "Tracking number · Dec. 1, 2026"


def test_a_page_for_customers_renders_in_the_stores_language(rf):
    # (what the packing slip view returns: rendered before the view returns, in the store's language)
    request = rf.get("/admin/orders/order/1/packing-slip/")
    with translation.override("en"):
        page = render_for_customers(request, "shipbridge/language_switch.html", {},
                                    store=StoreFactory.build(language="fr"))
    assert 'aria-label="Langue"' in page.content.decode() and translation.get_language() == "en"


def test_the_store_page_sets_the_customer_language(admin_client_su):
    store = StoreFactory(name="Shop")
    url = reverse("admin:stores_store_change", args=[store.pk])
    page = admin_client_su.get(url).content.decode()
    assert 'name="language"' in page
    response = admin_client_su.post(url, {
        "merchant": store.merchant_id, "name": "Shop", "active": "on", "refresh_interval_minutes": "15",
        "timezone": "UTC", "notify_store": "on", "conn_url": "http://127.0.0.1:9/store", "conn_username": "shop",
        "map_list_awaiting_shipment": "paid", "language": "fr"})
    assert response.status_code == 302, response.content.decode()[:1000]
    store.refresh_from_db()
    assert store.language == "fr"


# --- the interface: the user's choice, else the browser's --------------------------------------------


def _user(name, **kwargs):
    return User.objects.create_superuser(name, f"{name}@example.test", "pass-word-123", **kwargs)


def _page_language(response) -> str:
    return response.headers["Content-Language"]


@pytest.mark.django_db
def test_the_interface_follows_the_browser_until_the_user_chooses(client):
    login = client.get(reverse("admin:login"), headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert _page_language(login) == "fr" and "Nom d’utilisateur" in login.content.decode()
    client.force_login(_user("ada"))
    page = client.get(reverse("admin:index"), headers={"accept-language": "fr"})
    assert _page_language(page) == "fr" and "Centre de commandes" in page.content.decode()
    page = client.get(reverse("admin:index"), headers={"accept-language": "en-US,en;q=0.8"})
    assert _page_language(page) == "en" and "Order hub" in page.content.decode()


@pytest.mark.django_db
def test_the_language_switch_is_remembered_on_the_users_account(client):
    ada, bob = _user("ada"), _user("bob")
    client.force_login(ada)
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("admin:index")},
                           headers={"accept-language": "en"})
    assert response.status_code == 302 and response.url == reverse("admin:index")
    ada.refresh_from_db()
    assert ada.language == "fr"
    # on another device (no cookie, an English browser) Ada's pages are French; Bob's are not
    elsewhere = client.__class__()
    elsewhere.force_login(ada)
    assert _page_language(elsewhere.get(reverse("admin:index"), headers={"accept-language": "en"})) == "fr"
    other = client.__class__()
    other.force_login(bob)
    assert _page_language(other.get(reverse("admin:index"), headers={"accept-language": "en"})) == "en"
    # switching back is remembered too
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    ada.refresh_from_db()
    assert ada.language == "en"
    assert _page_language(elsewhere.get(reverse("admin:index"), headers={"accept-language": "fr"})) == "en"


@pytest.mark.django_db
def test_the_switch_keeps_nothing_it_does_not_know(client):
    ada = _user("ada")
    client.force_login(ada)
    for language in ("de", "", "fr-xx"):
        client.post(reverse("set_language"), {"language": language, "next": "/admin/"})
    ada.refresh_from_db()
    assert ada.language == ""
    # an address elsewhere is not followed
    response = client.post(reverse("set_language"), {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response.url


@pytest.mark.django_db
def test_before_logging_in_the_switch_keeps_the_choice_in_a_cookie(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("admin:login")})
    assert response.status_code == 302
    assert _page_language(client.get(reverse("admin:login"), headers={"accept-language": "en"})) == "fr"


def test_the_switch_snippet_offers_each_language_and_marks_the_current_one(rf: RequestFactory):
    request = rf.get("/admin/orders/order/?status=shipped")
    template = Template("{% load shipbridge_i18n %}{% language_switch %}")
    with translation.override("fr"):
        html = template.render(RequestContext(request, {}))
    assert f'action="{reverse("set_language")}"' in html and 'method="post"' in html
    assert 'name="next" value="/admin/orders/order/?status=shipped"' in html
    assert re.search(r'<button[^>]*value="fr"[^>]*aria-current="true" disabled>Français</button>', html)
    assert re.search(r'<button type="submit" name="language" value="en" lang="en">English</button>', html)
    assert 'aria-label="Langue"' in html


# --- dates, numbers, amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize("language, amount, date, grouped", [
    ("fr", f"1{NBSP}234,56{NBSP}$", "1 déc. 2026", f"1{NBSP}234{NBSP}567"),
    ("en", "$1,234.56", "Dec. 1, 2026", "1,234,567"),
])
def test_dates_numbers_and_amounts_follow_the_language(language, amount, date, grouped):
    template = Template("{% load shipbridge_i18n %}{{ total|currency:'USD' }}|{{ day|date }}|{{ n|grouped }}")
    with translation.override(language):
        text = template.render(Context({"total": Decimal("1234.56"), "day": dt.date(2026, 12, 1), "n": 1234567}))
    assert text == f"{amount}|{date}|{grouped}"


def test_amounts_in_other_currencies_and_below_zero():
    with translation.override("fr"):
        assert format_amount("-5", "EUR") == f"-5,00{NBSP}€"
        assert format_amount("1234.5", "chf") == f"1{NBSP}234,50{NBSP}CHF"
        assert format_amount(None, "USD") == "" and format_amount("7", "") == "7,00"
    with translation.override("en"):
        assert format_amount("-5", "EUR") == "-€5.00"
        assert format_amount("1234.5", "CHF") == f"CHF{NBSP}1,234.50"


# --- messages kept in English, shown in the reader's language -------------------------------------


KEPT = [
    ("store status 'paid' is not mapped", "le statut de boutique 'paid' n'est pas mappé"),
    ("no complete shipping address (missing: street, city)",
     f"pas d'adresse de livraison complète (manque{NBSP}: rue, ville)"),
    ("order 1001: OrderDate '13/45/2024' is not a real date/time",
     f"commande 1001{NBSP}: OrderDate '13/45/2024' n'est pas une date/heure réelle"),
    ("cannot reach the store at shop.example: connection refused",
     f"impossible de joindre la boutique shop.example{NBSP}: connexion refusée"),
    ("Acumatica will keep the old tracking number 1ZOLD: a confirmed shipment's packages are locked. "
     "Correct it in Acumatica by hand.",
     f"La boutique Acumatica gardera les anciennes valeurs (numéro de suivi 1ZOLD){NBSP}: les colis d'un envoi "
     "confirmé sont verrouillés. Corrigez-la à la main dans Acumatica."),
    ("the store refused the shipment notice (HTTP 400): Order not found (gave up after 5 attempts)",
     f"la boutique a refusé l'avis d'expédition (HTTP 400){NBSP}: Order not found (abandon après 5 tentatives)"),
]


@pytest.mark.parametrize("english, french", KEPT)
def test_a_kept_message_is_shown_in_the_readers_language(english, french):
    assert translated(english) == english  # English readers: as kept
    with translation.override("fr"):
        assert translated(english) == french


def test_a_runs_warning_is_shown_in_french():
    warning = attention_words(Counter({"processing": 3}), 1)
    assert warning == ("Attention: 3 orders skipped — status 'processing' is not mapped; "
                       "1 order skipped — no complete shipping address")
    with translation.override("fr"):
        assert translated(warning) == (
            f"Attention{NBSP}: 3 commandes ignorées — le statut 'processing' n'est pas mappé{NBSP}; "
            "1 commande ignorée — pas d'adresse de livraison complète")


@pytest.mark.parametrize("words", ["Forbidden", "shipment closed by the warehouse", "Order not found",
                                   '{"base":["Cannot create fulfilment on an order in the fulfilled state"]}'])
def test_the_stores_own_words_are_never_translated(words):
    with translation.override("fr"):
        assert translated(words) == words


def test_a_stores_state_is_told_in_the_readers_language():
    store = StoreFactory.build(last_refresh_status=RefreshStatus.FAILED, last_refresh_at=None,
                               last_refresh_error="cannot reach the store: connection refused")
    with translation.override("fr"):
        state = store_state(store=store)
    assert state.label == "En échec"
    assert state.detail == (f"La dernière importation a échoué récemment{NBSP}: impossible de joindre la "
                            f"boutique{NBSP}: connexion refusée. Elle est retentée à la prochaine actualisation.")
    assert store_state(store=store).detail.startswith("The last import failed recently: cannot reach the store")


def test_labels_and_choices_follow_the_language():
    with translation.override("fr"):
        assert str(Store._meta.get_field("timezone").verbose_name) == "fuseau horaire"
        assert str(Store._meta.verbose_name) == "boutique"
        assert dict(Store._meta.get_field("language").choices)["fr"] == "Français"
        assert str(Store._meta.get_field("notify_store").verbose_name) == "notifier la boutique quand une expédition est créée"
