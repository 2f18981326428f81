from insats.cli import app

app(prog_name="insats")
