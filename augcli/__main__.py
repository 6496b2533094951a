from augcli.cli import app

app(prog_name="augcli")
