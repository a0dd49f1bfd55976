# Every user's server on the rig's hub (scripts/services/hub.sh installs it as the users'
# Python's jupyter_server_config.py). The database URL comes from the hub (ESAP_LAB_DB_URL,
# esap_lab.hub.database_pre_spawn_hook); esap_lab.hub keeps ~/.esap/access_token fresh.
c = get_config()  # noqa: F821
c.ServerApp.jpserver_extensions = {"esap_lab": True, "esap_lab.hub": True}
c.ServerApp.ip = "127.0.0.1"
c.EsapLab.db_url = ""
c.EsapLab.archives = []
