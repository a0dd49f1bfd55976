"""The Jupyter server extension: every admin setting is a traitlet of ``EsapLab``, so one
``jupyter_server_config.py`` (e.g. in /etc/jupyter) configures a whole JupyterHub:

    c.EsapLab.archives = [{"id": "mine", "title": "My archive", "tap": "https://.../tap"}]
    c.EsapLab.db_url = "postgresql+psycopg://esap@db/esap"
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Dict, Float, Int, List, Unicode, default

from . import vault
from .archives import DEFAULT_ARCHIVES, ArchiveRegistry, QueryManager, ResultStore, parse_archives
from .archives.discovery import RegistrySearch
from .archives.schema import SchemaBrowser
from .archives.searches import SearchManager
from .archives.store import UserArchiveStore
from .basket.service import BasketService
from .client import ROOT_DIR_ENV, SERVER_URL_ENV, TOKEN_ENV
from .db import Database, default_db_url, user_schema
from .jobs import JobManager, build_backends
from .jobs.links import basket_lookup, transfer_lookup
from .routes import handlers
from .software.service import DEFAULT_COMMUNITY, DEFAULT_URL, SoftwareService
from .staging.manager import StagingManager
from .staging.service import archive_factories, build_staging, rucio_archive_entries
from .tables.service import TableService


@dataclass
class Services:
    """The domain services the handlers call (``self.settings["esap_lab"]``)."""

    db: Database
    data_dir: Path
    root_dir: Path
    archives: ArchiveRegistry
    queries: QueryManager
    extra: dict[str, Any] = field(default_factory=dict)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    basket: BasketService | None = None
    jobs: JobManager | None = None
    staging: StagingManager | None = None
    tables: TableService | None = None
    software: SoftwareService | None = None
    browser: SchemaBrowser | None = None  # VOSI tables and TAP examples of the archives
    searches: SearchManager | None = None  # one request over many archives

    async def start(self) -> None:
        await self.queries.resume()
        if self.staging is not None:
            await self.staging.resume()
        if self.jobs is not None:
            await self.jobs.start()
        if self.software is not None:
            await self.software.resume()

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self.staging is not None:
            await self.staging.stop()
        if self.jobs is not None:
            await self.jobs.stop()
        if self.tables is not None:
            self.tables.close()
        if self.software is not None:
            await self.software.stop()
            self.software.close()
        self.db.close()


class EsapLab(ExtensionApp):
    name = "esap_lab"
    description = "ESAP in JupyterLab: discover, collect, stage and run."

    archives = List(Dict(), help="Archives users can search: dicts with id, title, description and the service "
                                 "URLs per capability (tap, scs, sia2, sia, ssa); optional auth. "
                                 "Default: a list of public IVOA services.").tag(config=True)
    extra_archives = List(Dict(), help="Archives added to `archives` (keeps the defaults).").tag(config=True)
    db_url = Unicode("", help="SQLAlchemy URL of the state database. Default: ESAP_LAB_DB_URL from the "
                              "environment (how esap_lab.hub hands each user's server its own database role), "
                              "else a SQLite file (mode 0600) in the Jupyter data dir. A hub serves many users "
                              "from PostgreSQL: postgresql+psycopg://user:password@host/db").tag(config=True)
    secret_env = List(Unicode(), help="More environment variables holding credentials: like the ones the "
                                      "configuration names (password_env, token_env, ESAP_LAB_DB_URL), the "
                                      "server reads them at start-up and removes them from its environment, so "
                                      "no kernel, terminal or job inherits them.").tag(config=True)
    db_schema = Unicode("esap_{username}", help="On PostgreSQL, the schema that holds each user's tables; "
                                                "{username} is the JupyterHub (else Unix) user name, so the users "
                                                "of one hub database never see each other's state. Empty: the "
                                                "database's default schema.").tag(config=True)
    data_dir = Unicode("", help="Where query results and other files are kept. "
                                "Default: <jupyter data dir>/esap_lab").tag(config=True)
    query_timeout = Float(60.0, help="Seconds an archive may take to answer one request.").tag(config=True)
    job_backends = List(Dict(), help="Batch backends notebooks can be submitted to, several at once: dicts with "
                                     "name, type (local, slurm, dirac, or one added through the entry point "
                                     "group esap_lab.job_backends) and the type's options, e.g. "
                                     "{'name': 'slurm', 'type': 'slurm', 'partition': 'debug'}. "
                                     "Default: the local backend only.").tag(config=True)
    jobs_dir = Unicode("esap-jobs", help="Folder under the server root where each job keeps its input copy, "
                                         "parameters, provenance, logs and output notebook.").tag(config=True)
    rucio_instances = List(Dict(), help="Rucio instances (data lakes) users can search and stage from, several "
                                        "at once: dicts with name, rucio_host, auth_host, account, vo, auth_type "
                                        "(userpass, x509, x509_proxy, oidc, token_file), credentials by environment "
                                        "variable or file (password_env/password_file, certificate/key, proxy, "
                                        "token_env/token_file), destination_rse and rse_mount_path (replica mode), "
                                        "download_folder. Each becomes a searchable archive.").tag(config=True)
    job_poll_interval = Float(1.0, help="Seconds between two polls of the batch systems.").tag(config=True)
    transfer_deadline = Float(0.0, help="Seconds a transfer (download or replication rule) may take in all; "
                                        "one still running then is stopped as an error (reason deadline). "
                                        "0: no limit.").tag(config=True)
    job_deadline = Float(0.0, help="Seconds a batch job may stay active (waiting for data, queued, running); "
                                   "one still active then is cancelled in its batch system and ends failed "
                                   "(reason deadline). 0: no limit.").tag(config=True)
    software_url = Unicode(DEFAULT_URL, help="The OSSR: a Zenodo or InvenioRDM site whose records API "
                                             "(<url>/api/records) is searched for software. Empty: no software "
                                             "area.").tag(config=True)
    software_community = Unicode(DEFAULT_COMMUNITY, help="The community searched on software_url (the ESCAPE "
                                                         "OSSR is escape2020); empty: every record of the site."
                                 ).tag(config=True)
    software_timeout = Float(30.0, help="Seconds a software search or record may take in all (its "
                                        "codemeta.json files included).").tag(config=True)
    software_download_timeout = Float(600.0, help="Seconds opening a record may take in all (download, "
                                                  "verification, unpacking).").tag(config=True)
    software_max_bytes = Int(2 << 30, help="Bytes a record's files may have, downloaded and again unpacked."
                             ).tag(config=True)
    software_dir = Unicode("software", help="Folder under the server root where opened records go, one "
                                            "sub-folder <name>-<version> each.").tag(config=True)
    outbound_allow_private = List(Unicode(), help="Hosts (data.example.org, *.example.org) or networks "
                                                  "(127.0.0.1, 10.0.0.0/8) the server may connect to although "
                                                  "their addresses are not public; '*' allows every one."
                                  ).tag(config=True)
    outbound_redirect_hosts = List(Unicode(), help="Hosts a redirect may lead to from another host ('*': any)."
                                   ).tag(config=True)
    tables_max_rows = Int(5_000_000, help="Rows a table may have (imported or saved); an SQL or crossmatch "
                                           "result is cut there and says so.").tag(config=True)
    tables_max_bytes = Int(1 << 30, help="Bytes a file, URL or upload imported as a table may have."
                           ).tag(config=True)
    tables_sql_timeout = Float(60.0, help="Seconds one SQL statement over my tables may run.").tag(config=True)
    tables_memory_limit = Unicode("2GB", help="Memory DuckDB may use for SQL over my tables (e.g. '2GB'; "
                                              "beyond it, it spills to disk). Empty: DuckDB's own default, "
                                              "80% of the machine's memory.").tag(config=True)
    tables_spill_limit = Unicode("8GB", help="Disk DuckDB may spill to (in the user's data dir) when an SQL "
                                             "statement over my tables outgrows tables_memory_limit; a "
                                             "statement needing more fails with a 400 naming both settings. "
                                             "Empty: no cap.").tag(config=True)
    tables_engine = Unicode("duckdb", help="Where SQL over my tables runs: 'duckdb' (embedded, the default) or "
                                           "'postgresql' (a hub: the user's own schema of the PostgreSQL state "
                                           "database, isolated by the user's role; see esap_lab.hub).").tag(config=True)
    tables_max_results = Int(20, help="SQL and crossmatch results kept (the newest); save one as a table to "
                                      "keep it.").tag(config=True)
    registry_url = Unicode("https://reg.g-vo.org/tap", help="The TAP endpoint of the IVOA registry (RegTAP, tables "
                                                         "in schema rr) the Search step's registry searches; users "
                                                         "add the services they find there as their own archives. "
                                                         "Empty: no registry search.").tag(config=True)
    schema_cache_ttl = Float(300.0, help="Seconds an archive's table list (VOSI tables) and TAP examples are "
                                         "kept before they are read again (the table list is also kept on "
                                         "disk, and answered while it is read again).").tag(config=True)
    hips_surveys = List(Dict(), default_value=None, allow_none=True,
                        help="HiPS surveys the sky view offers: dicts with id, title and url (the browser reads "
                             "it), or path (a HiPS folder on this server's disk) or url with proxy: True (both "
                             "served by this server, for a HiPS the browser cannot reach); default: True marks "
                             "the one it opens with. Default: public DSS2, 2MASS and Gaia surveys.").tag(config=True)
    samp_link_ttl = Float(600.0, help="Seconds a signed table link handed to a SAMP client (TOPCAT, Aladin, "
                                      "DS9) stays valid.").tag(config=True)
    max_body_size = Int(8 * 1024 * 1024, help="Largest request body (bytes) the REST API accepts; a larger one "
                                              "is refused (413) before it is read or parsed.").tag(config=True)

    @default("archives")
    def _default_archives(self):
        return list(DEFAULT_ARCHIVES)

    def initialize_settings(self) -> None:
        from . import outbound

        outbound.configure(self.outbound_allow_private, self.outbound_redirect_hosts)
        data_dir = Path(self.data_dir or Path(jupyter_data_dir()) / "esap_lab")
        data_dir.mkdir(parents=True, exist_ok=True)
        archives = list(self.archives) + list(self.extra_archives)
        # Credentials stay in this process: what kernels, terminals and jobs inherit has none.
        vault.withdraw(vault.secret_env_names(archives, self.rucio_instances, self.secret_env))
        url = self.db_url or vault.secret(vault.DB_URL_ENV) or default_db_url(data_dir.parent)
        schema = user_schema(self.db_schema) if self.db_schema and not url.startswith("sqlite") else ""
        db = Database(url, schema=schema or None)
        db.migrate()
        self.export_server_to_kernels()
        root_dir = Path(self.serverapp.root_dir).resolve()
        staging = build_staging(db, data_dir, root_dir, list(self.rucio_instances),
                                deadline=self.transfer_deadline or None)
        archives = list(self.archives) + list(self.extra_archives)
        registry = ArchiveRegistry(parse_archives(archives + rucio_archive_entries(staging, archives)),
                                   timeout=self.query_timeout, factories=archive_factories(staging))
        services = Services(
            db=db,
            data_dir=data_dir,
            root_dir=Path(self.serverapp.root_dir).resolve(),
            archives=registry,
            queries=QueryManager(db, registry, ResultStore(data_dir / "queries")),
        )
        services.basket = BasketService(db, registry, services.queries)
        services.browser = SchemaBrowser(registry, ttl=self.schema_cache_ttl, cache_dir=data_dir / "schema")
        services.searches = SearchManager(services.queries)
        registry.attach_store(UserArchiveStore(db))  # the archives this user added (e.g. from the registry)
        if self.registry_url:
            services.extra["registry"] = RegistrySearch(self.registry_url, timeout=self.query_timeout,
                                                        archives=registry)
        services.jobs = JobManager(db, services.root_dir, build_backends(list(self.job_backends)),
                                   jobs_dir=self.jobs_dir, poll_interval=self.job_poll_interval,
                                   deadline=self.job_deadline or None,
                                   basket=basket_lookup(services.basket),
                                   transfers=transfer_lookup(lambda: getattr(services, "staging", None)))
        services.staging = staging
        services.tables = TableService(db, data_dir / "tables", services.root_dir, queries=services.queries,
                                       basket=services.basket, max_rows=self.tables_max_rows,
                                       max_bytes=self.tables_max_bytes, sql_timeout=self.tables_sql_timeout,
                                       max_results=self.tables_max_results, fetch_timeout=self.query_timeout,
                                       engine=self.tables_engine, memory_limit=self.tables_memory_limit,
                                       spill_limit=self.tables_spill_limit)
        # TAP uploads (TAP_UPLOAD) read basket records and my tables through their services
        services.queries.basket, services.queries.tables = services.basket, services.tables
        if self.software_url:
            services.software = SoftwareService(
                services.root_dir, base_url=self.software_url, community=self.software_community,
                folder=self.software_dir, timeout=self.software_timeout,
                download_timeout=self.software_download_timeout, max_bytes=self.software_max_bytes,
                basket=services.basket, jobs=services.jobs, archives=registry, db=db)
        if self.hips_surveys:
            from .sky.service import parse_surveys

            parse_surveys(list(self.hips_surveys))  # a bad entry stops the start, named
        services.extra["sky_config"] = {"hips_surveys": self.hips_surveys, "samp_link_ttl": self.samp_link_ttl}
        self.services = services
        self.settings.update({"esap_lab": services, "esap_lab_max_body_size": self.max_body_size})
        loop = asyncio.get_event_loop()
        loop.call_soon(self.export_server_to_kernels)  # the port is final once the loop runs
        loop.call_soon(lambda: services._tasks.append(asyncio.ensure_future(services.start())))

    def export_server_to_kernels(self) -> None:
        """Kernels started by this server inherit its environment: they get the server's own URL
        and token (the user's own credential) and reach esap-lab through its REST API
        (esap_lab.client), never through the database."""
        app = self.serverapp
        os.environ[SERVER_URL_ENV] = app.connection_url
        token = getattr(getattr(app, "identity_provider", None), "token", None) or ""
        if token:
            os.environ[TOKEN_ENV] = token
        else:
            os.environ.pop(TOKEN_ENV, None)
        os.environ[ROOT_DIR_ENV] = str(Path(app.root_dir).resolve())

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        await self.services.stop()
