"""Acumatica ERP connector: imports shipments (one shipment = one order), writes tracking numbers
on the shipment's existing package and confirms it. Releases 2018 R2 to 2021 R2.

client.py does the HTTP (cookie session, always logged out), mapper.py the pure JSON work."""
from __future__ import annotations

import logging
from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..base import (
    ConfigurationError, Connector, NotifyResult, Page, Prefetch, ProtocolError, SettingField, ShipmentNotice,
    SkippedRecord, StoreRejected, TransientError, Window, clean_http_url,
)
from ..seen import SeenIds
from . import mapper
from .client import AcumaticaClient, EntityNotFound, LicenceLimitReached, OptimizerError

log = logging.getLogger("shipbridge.acumatica")

RELEASES = ("2018 R2", "2019 R1", "2019 R2", "2020 R1", "2020 R2", "2021 R1", "2021 R2")

# Acumatica locks a shipment's packages once the shipment is confirmed: a second notice (a
# shipment made again after a void, a corrected tracking number) cannot be written.
REPEAT_ADVICE = gettext_noop(
    "Acumatica has already confirmed this order's shipment, and a confirmed shipment's packages are locked: "
    "it cannot receive another tracking number. Ship without notifying the store, and correct the tracking "
    "number in Acumatica by hand."
)
LOCKED_ADVICE = gettext_noop(
    "The shipment is already {status} in Acumatica, so its packages are locked: correct the tracking number "
    "there by hand, or ship without notifying the store."
)


class AcumaticaConnector(Connector):
    name = "acumatica"
    label = _("Acumatica ERP")
    short_label = gettext_noop("Acumatica")
    status_mapping_style = "per_status"  # shipment statuses are a fixed set: one choice each
    filters_statuses = True  # $filter on the mapped statuses
    help_text = _(
        "The ShipStation customization package must be imported and published on your Acumatica "
        "instance; installing it is your job or your Acumatica partner's, not ShipBridge's."
    )
    settings_schema = (
        SettingField("base_url", _("Base URL"), help_text=_("e.g. https://mycompany.acumatica.com")),
        SettingField("username", _("Username")),
        SettingField("password", _("Password"), secret=True),
        SettingField("company", _("Company (tenant) name")),
        SettingField("branch", _("Company / branch ID")),
        SettingField("version", _("Acumatica release"), choices=RELEASES),
    )
    address_keys = ("base_url",)
    known_statuses = (
        "Open", "On Hold", "Confirmed", "Completed", "Canceled", "Invoiced",
        "Partially Invoiced", "Receipted", "Auto-Generated",
    )
    default_status_mapping = {
        "Open": "awaiting_shipment",
        "Confirmed": "shipped",
        "Completed": "shipped",
        "Canceled": "cancelled",
        "On Hold": "on_hold",
    }
    accepts_repeat_notification = False
    repeat_notification_advice = REPEAT_ADVICE
    accepts_corrections = False
    correction_refusal_reason = gettext_noop("a confirmed shipment's packages are locked")

    # Paging: `$top` per call; successive `$skip` overlap by `page_overlap` rows (Acumatica does
    # not guarantee an order), duplicates are dropped by ShipmentNbr.
    page_size = 100
    page_overlap = 5
    max_pages = 10_000
    # ConfirmShipment is a long-running action: how often / how many times its status is read.
    confirm_poll_interval = 0.5
    confirm_poll_limit = 60

    # -- settings --
    @classmethod
    def clean_settings(cls, values: dict[str, str]) -> dict[str, str]:
        cleaned = super().clean_settings(values)
        url = cleaned.get("base_url", "")
        if url:
            clean_http_url(url, "base_url", example="https://mycompany.acumatica.com", allow_query=False)
            cleaned["base_url"] = url.rstrip("/")
        return cleaned

    # -- what the store says --
    @classmethod
    def refusal_advice(cls, exc: StoreRejected) -> str:
        status = mapper.locked_packages_status(exc.body) or mapper.locked_packages_status(exc.message)
        return LOCKED_ADVICE.format(status=status.lower()) if status else ""

    # -- plumbing --
    @property
    def release(self) -> str:
        return self.settings.get("version", "")

    def _client(self, *, retry: bool = True) -> AcumaticaClient:
        settings = {**self.settings, **self.secrets}
        missing = [k for k in ("base_url", "username", "password", "company", "version") if not settings.get(k)]
        if missing:
            raise ConfigurationError(gettext_noop("the Acumatica store lacks the setting {key}").format(
                key=repr(missing[0])))
        return AcumaticaClient(
            base_url=settings["base_url"],
            username=settings["username"],
            password=settings["password"],
            company=settings["company"],
            branch=settings.get("branch", ""),
            endpoint_version=mapper.endpoint_version(settings["version"]),
            release=settings["version"],
            retry=retry,
            poll_interval=self.confirm_poll_interval,
            poll_limit=self.confirm_poll_limit,
        )

    # -- connection test --
    def test_connection(self) -> str:
        """Log in, read one shipment on the release's endpoint version, log out. No waiting:
        each failure says at once which part failed."""
        client = self._client(retry=False)
        try:
            with client.session():
                count = client.check_shipments()
        except LicenceLimitReached:
            raise
        except TransientError as exc:
            if exc.status_code is None:
                raise TransientError(gettext_noop("Acumatica is unreachable: {error}").format(error=exc)) from None
            raise
        account = (gettext_noop("tenant {tenant}, branch {branch}") if client.branch else
                   gettext_noop("tenant {tenant}")).format(tenant=client.company, branch=client.branch)
        return gettext_noop("ok: logged in to {address} as {user} ({account}); endpoint {endpoint} of release "
                            "{release} answers ({state})").format(
            address=client.base, user=client.username, account=account,
            endpoint=f"{mapper.ENDPOINT_NAME}/{client.version}", release=self.release,
            state=gettext_noop("shipments readable") if count else gettext_noop("no shipment yet"))

    # -- import --
    def fetch_orders(self, window: Window, *, statuses: list[str]) -> Iterator[Page]:
        """Pages of shipments modified in the window (wall time in the store's zone) whose status
        is one of `statuses` (none given: every status). Always logs out, also when the caller
        stops early or an error happens mid-import."""
        filter_text = mapper.build_filter(start=window.start, end=window.end, tz=self.timezone, statuses=statuses)
        client = self._client()
        with client.session():
            yield from self._pages(client, filter_text)

    def _pages(self, client: AcumaticaClient, filter_text: str) -> Iterator[Page]:
        top = max(1, int(self.page_size))
        step = max(1, top - max(0, int(self.page_overlap)))
        # a full page means another one: it is asked for while this one is mapped
        listing = Prefetch(lambda at: client.list_shipments(filter_text, top=top, skip=at))
        try:
            with SeenIds() as seen:
                yield from self._pages_of(client, filter_text, listing, top, step, seen)
        finally:
            listing.close()  # nothing left in flight when the session logs out

    def _pages_of(self, client: AcumaticaClient, filter_text: str, listing: Prefetch, top: int, step: int,
                  seen: SeenIds) -> Iterator[Page]:
        by_key = False
        skip, number = 0, 0
        while True:
            if not by_key:
                try:
                    entities = listing.get(skip)
                    if len(entities) >= top and number + 1 < self.max_pages:
                        listing.ahead(skip + step)
                    batch_size = len(entities)
                    batch_keys = [mapper.shipment_number(e) for e in entities]
                except OptimizerError as exc:
                    log.warning("%s; listing shipment numbers and reading shipments one by one", exc)
                    by_key = True
                    continue
                page = self._page(number + 1, entities, seen)
            else:
                keys = client.list_shipment_numbers(filter_text, top=top, skip=skip)
                batch_size, batch_keys = len(keys), keys
                page = self._page_by_key(number + 1, client, keys, seen)
            number += 1
            known = seen.lookup(batch_keys)
            new = any(k and k not in known for k in batch_keys)
            seen.record((k, 0) for k in batch_keys if k)
            if number == 1 or page.records or page.skipped:
                yield page
            if batch_size < top:
                return
            if not new:
                log.warning("Acumatica returned a full page of shipments already seen at $skip=%s: stopping", skip)
                return
            if number >= self.max_pages:
                raise ProtocolError(gettext_noop("Acumatica kept sending pages after {pages} pages of {size}: "
                                                 "stopping").format(pages=number, size=top))
            skip += step

    def _page(self, number: int, entities: list[dict], seen: SeenIds) -> Page:
        page = Page(number=number, total_pages=None, records=[])
        in_page: set[str] = set()
        known = seen.lookup(mapper.shipment_number(entity) for entity in entities)
        for entity in entities:
            nbr = mapper.shipment_number(entity)
            if nbr and (nbr in known or nbr in in_page):
                continue
            in_page.add(nbr)
            self._add(page, nbr, entity)
        return page

    def _page_by_key(self, number: int, client: AcumaticaClient, keys: list[str], seen: SeenIds) -> Page:
        page = Page(number=number, total_pages=None, records=[])
        known = seen.lookup(keys)
        for nbr in dict.fromkeys(keys):
            if nbr in known:
                continue
            try:
                entity = client.get_shipment(nbr)
            except EntityNotFound:
                page.skipped.append(SkippedRecord(nbr, nbr, gettext_noop("deleted in Acumatica while being imported")))
                continue
            self._add(page, nbr, entity)
        return page

    def _add(self, page: Page, nbr: str, entity: dict) -> None:
        try:
            reason = mapper.skip_reason(entity)
            if reason:
                page.skipped.append(SkippedRecord(nbr, nbr, reason))
                return
            page.records.append(mapper.shipment_to_record(entity, tz=self.timezone))
        except ProtocolError as exc:  # one malformed shipment does not block the others
            reason = gettext_noop("unreadable shipment: {error}").format(error=exc)
            page.skipped.append(SkippedRecord(nbr or "?", nbr or "?", reason))

    # -- notification --
    def notify_shipment(self, notice: ShipmentNotice) -> NotifyResult:
        """Tracking number on the shipment's existing package (never a new package), then
        ConfirmShipment and wait for it. Reads the shipment first so a repeated notification
        does not write twice or confirm twice. No retries here: the notification service retries."""
        raw = notice.order_raw or {}
        nbr = str(raw.get("ShipmentNbr") or notice.order_external_id)
        client = self._client(retry=False)
        done: list[str] = []
        warning = ""
        last = None
        with client.session():
            try:
                current = client.get_shipment(nbr, expand="Packages")
            except EntityNotFound as exc:
                raise type(exc)(gettext_noop("shipment {number} no longer exists in Acumatica ({error})").format(
                    number=nbr, error=exc), status_code=exc.status_code, body=exc.body) from None
            shipment_id = current.get("id") if isinstance(current.get("id"), str) else str(raw.get("id") or "")
            status = mapper.shipment_status(current)
            tracking = notice.tracking_number.strip()
            if tracking:
                package, already = mapper.choose_package(mapper.packages(current), tracking)
                if package is None:
                    warning = mapper.NO_PACKAGE_WARNING
                elif already:
                    done.append(gettext_noop("tracking {tracking} already on package {package}").format(
                        tracking=tracking, package=package["BoxID"] or package["id"]))
                elif not package["id"]:
                    raise ProtocolError(gettext_noop("Acumatica sent shipment {number}'s package without an id").format(
                        number=nbr))
                else:
                    last = client.put_tracking(shipment_id=shipment_id, shipment_nbr=nbr, package_id=package["id"],
                                               tracking=tracking)
                    done.append((gettext_noop("PUT tracking {tracking} on package {package} (replacing {old})")
                                 if package["TrackingNbr"] else
                                 gettext_noop("PUT tracking {tracking} on package {package}")).format(
                        tracking=tracking, package=package["BoxID"] or package["id"], old=package["TrackingNbr"]))
            if status in mapper.CONFIRMED_STATUSES:
                done.append(gettext_noop("shipment {number} already {status}").format(number=nbr, status=status))
            else:
                last = client.confirm_shipment(nbr)
                done.append(f"ConfirmShipment {nbr}")
        return NotifyResult(
            request_summary="; ".join(done) or gettext_noop("nothing to do for shipment {number}").format(number=nbr),
            response_code=last.status_code if last is not None else None,
            response_body=last.text[:2000] if last is not None else "",
            warning=warning,
        )
