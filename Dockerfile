# API and CPU workers: one image, run as a non-root user. The command picks the role:
#   docker run IMAGE                                   -> the API on :8000
#   docker run IMAGE celery -A shared.celery_app worker -Q cpu_tasks
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_NUM_THREADS=1 \
    DATA_DIR=/data \
    API_HOST=0.0.0.0

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY apps ./apps
COPY shared ./shared
COPY workers ./workers
COPY infra ./infra

RUN useradd --create-home --uid 10001 mmf && mkdir -p /data && chown mmf /data
USER mmf
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["python", "-m", "uvicorn", "--factory", "apps.api.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
