"""The IVOA registry: find services (RegTAP through pyvo.registry) that a user may add as archives.

The registry is a TAP service with the RegTAP tables in schema ``rr`` (c.EsapLab.registry_url).
pyvo's module-level registry choice is global to the process, so the query is built and run
here against this server's own TAPService (an esap_lab.outbound.Session: the outbound policy and
a deadline), never through ``pyvo.registry.choose_RegTAP_service``. Wavebands are checked
against the messenger terms esap-lab knows, so pyvo never downloads the vocabulary at run time.
"""

from __future__ import annotations

from .. import executors, outbound
from ..errors import BadRequest, EsapError
from .models import WAVEBANDS, RegistryCapability, RegistryParams, RegistryResource, RegistryResults

SEP = ":::py VO sep:::"  # how pyvo's RegTAP query joins a resource's interfaces
_TYPES = {  # standard id (without a version fragment) -> an archive's service key
    "ivo://ivoa.net/std/tap": "tap",
    "ivo://ivoa.net/std/conesearch": "scs",
    "ivo://ivoa.net/std/sia": "sia",
    "ivo://ivoa.net/std/ssa": "ssa",
}


def _kind(standard_id: str) -> str:
    sid = standard_id.lower()
    base, _, fragment = sid.partition("#")
    if base == "ivo://ivoa.net/std/sia" and fragment.startswith(("query-2", "query-aux-2")):
        return "sia2"
    if base in _TYPES and (not fragment or fragment.startswith(("aux", "query-aux"))):
        return _TYPES[base] + ("#aux" if "aux" in fragment else "")
    return sid.removeprefix("ivo://ivoa.net/std/") or standard_id


def _split(value) -> list[str]:
    text = "" if value is None else str(value)
    return text.split(SEP) if text else []


def resource_of(row) -> RegistryResource:
    """One row of pyvo's RegTAP answer as a resource with its standard capabilities."""
    urls, sids = _split(row["access_urls"]), _split(row["standard_ids"])
    roles, descs = _split(row["intf_roles"]), _split(row["cap_descriptions"])
    caps: list[RegistryCapability] = []
    services: dict[str, str] = {}
    aux: dict[str, str] = {}
    for i, sid in enumerate(sids):
        url = urls[i] if i < len(urls) else ""
        role = roles[i] if i < len(roles) else ""
        if not sid or (role and role != "std") or "vosi" in sid.lower():
            continue
        kind = _kind(sid)
        caps.append(RegistryCapability(type=kind, standard_id=sid, access_url=url or None,
                                       description=(descs[i] if i < len(descs) else "") or None))
        if url:
            key = kind.removesuffix("#aux")
            if key in ("tap", "scs", "sia", "sia2", "ssa"):
                (aux if kind.endswith("#aux") else services).setdefault(key, url)
    for key, url in aux.items():  # e.g. the site's TAP service a cone search's table is in
        services.setdefault(key, url)
    waveband = [w for w in str(row["waveband"] or "").split("#") if w]
    return RegistryResource(
        ivoid=str(row["ivoid"]), short_name=str(row["short_name"] or "") or None,
        title=str(row["res_title"] or row["ivoid"]), description=str(row["res_description"] or "").strip() or None,
        type=str(row["res_type"] or "") or None, waveband=waveband,
        reference_url=str(row["reference_url"] or "") or None, capabilities=caps, services=services)


class RegistrySearch:
    """Search one RegTAP registry (``url``: its TAP endpoint)."""

    def __init__(self, url: str, timeout: float, archives=None):
        self.url = url
        self.timeout = timeout
        self.archives = archives  # an ArchiveRegistry: marks resources that are archives already
        self.name = f"The registry ({url})"

    def _constraints(self, p: RegistryParams) -> list:
        from pyvo.registry import rtcons

        class _Waveband(rtcons.Waveband):
            _legal_terms = frozenset(WAVEBANDS)  # no vocabulary download

        out = []
        if p.keywords:
            out.append(rtcons.Freetext(*p.keywords.split()))
        if p.servicetype:
            out.append(rtcons.Servicetype(p.servicetype))
        if p.waveband:
            out.append(_Waveband(p.waveband))
        if p.ucd:
            out.append(rtcons.UCD(p.ucd.replace("*", "%")))
        return out

    def _search(self, p: RegistryParams) -> RegistryResults:
        import pyvo
        from pyvo.dal.exceptions import DALQueryError, DALServiceError
        from pyvo.registry import regtap, rtcons

        session = outbound.Session(self.name, timeout=self.timeout, user_agent="esap-lab (pyvo)")
        try:
            service = pyvo.dal.TAPService(self.url, session=session)
            try:
                adql = rtcons.build_regtap_query(self._constraints(p), service)
            except DALQueryError as e:
                raise BadRequest(f"The registry search is not valid: {e}", reason="bad-registry-search") from None
            except DALServiceError:
                # pyvo read the service's capabilities and lost why it could not: ask once more, ourselves
                session.get(self.url.rstrip("/") + "/capabilities").raise_for_status()
                raise
            try:
                res = regtap.RegistryQuery(self.url, adql, maxrec=p.maxrec, session=session).execute()
            except DALQueryError as e:
                raise BadRequest(f"{self.name} rejected the search: {e.reason or e}",
                                 reason="registry-rejected") from None
            status = res.status[0] if isinstance(res.status, tuple) else res.status
            resources = [resource_of(row) for row in res.to_table()]
            return RegistryResults(registry=self.url, resources=resources, overflow=status == "OVERFLOW")
        except EsapError:
            raise
        except Exception as e:  # noqa: BLE001 - unreachable, timed out, or not a RegTAP service
            raise _registry_error(self, e, session) from None
        finally:
            session.close()

    async def search(self, p: RegistryParams) -> RegistryResults:
        try:
            results = await executors.run("registry", self._search, p, timeout=self.timeout + 5)
        except TimeoutError:
            from ..errors import RemoteTimeout

            raise RemoteTimeout(self.name, f"{self.name} timed out: no complete answer within "
                                           f"{self.timeout:g} s.") from None
        if self.archives is not None:
            for r in results.resources:
                r.archive = self._archive_of(r)
        return results

    def _archive_of(self, r: RegistryResource) -> str | None:
        wanted = {_norm(u) for u in r.services.values()}
        for a in self.archives:
            if self.archives.is_user(a.cfg.id) and self.archives.info(a).ivoid == r.ivoid:
                return a.cfg.id
        for a in self.archives:
            have = {_norm(u) for u in a.services.values()}
            if wanted and wanted <= have:
                return a.cfg.id
        return None


def _norm(url: str) -> str:
    return url.rstrip("?&/")


def _registry_error(search: RegistrySearch, e: BaseException, session) -> EsapError:
    from pyvo.dal.exceptions import DALServiceError

    from ..errors import RemoteError

    code = getattr(e, "code", None) if isinstance(e, DALServiceError) else None
    if code is not None:
        return RemoteError(search.name, f"{search.name} failed (HTTP {code}): is it the TAP service of a RegTAP "
                                        "registry?", reason="registry-failed")
    err = outbound.remote_error(search.name, e, timeout=search.timeout, session=session)
    if err.reason == "remote-unreadable":
        err.message = f"{search.name} did not answer as a RegTAP registry: {err.message.split(': ', 1)[-1]}"
    return err
