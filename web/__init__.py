"""The web app: FastAPI on uvicorn, server-rendered pages (see web/app.py)."""
