# One image for the web server, the Celery workers and the baseline TGI-protocol server.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_DISABLE_TELEMETRY=1
WORKDIR /app
COPY requirements.txt constraints.txt ./
# torch's CPU build (constraints pin 2.13.0+cpu) comes from PyTorch's CPU index; a GPU box
# that takes the "gpu" queue installs a CUDA build of the same version instead.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \
        -r requirements.txt -c constraints.txt
COPY . .
RUN DJANGO_DEBUG=1 python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 elmtex \
    && mkdir -p var/exports && chown -R elmtex /app/var
USER elmtex
EXPOSE 8000
CMD ["gunicorn", "elmtex_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
