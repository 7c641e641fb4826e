"""Where taskloom-s3 takes its endpoint, region, credentials and retry policy from; no server needed
(building an S3 client contacts nobody)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from taskloom.exceptions.system import StorageError
from taskloom.storage import download, get_filesystem
from taskloom_s3.filesystem import S3FileSystem, s3_filesystem
from taskloom_s3.settings import SettingsError, read_settings
from taskloom_s3.testing import use_server


@pytest.fixture
def aws(monkeypatch):
    """No AWS configuration at all, then whatever the test sets."""
    use_server(monkeypatch, None)
    return monkeypatch


def client_of(filesystem: S3FileSystem):
    filesystem.connect()  # builds the botocore client; sends no request
    return filesystem.s3


def credentials_of(filesystem: S3FileSystem):
    from fsspec.asyn import sync

    filesystem.connect()
    return sync(filesystem.loop, filesystem.session.get_credentials)


def test_endpoint_region_and_keys_come_from_the_standard_aws_variables(aws):
    aws.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.setenv("AWS_REGION", "eu-west-3")
    aws.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    aws.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    aws.setenv("AWS_SESSION_TOKEN", "token-example")
    filesystem = s3_filesystem()
    client = client_of(filesystem)
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-west-3"
    credentials = credentials_of(filesystem)
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIDEXAMPLE",
        "secret-example",
        "token-example",
    )


def test_the_s3_specific_endpoint_and_aws_region_win_over_the_general_ones(aws):
    aws.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:10")
    aws.setenv("AWS_DEFAULT_REGION", "us-west-2")
    aws.setenv("AWS_REGION", "ap-south-1")
    settings = read_settings()
    assert (settings.endpoint_url, settings.region) == ("http://127.0.0.1:10", "ap-south-1")


def test_a_profile_in_the_aws_config_file_gives_region_retries_and_keys(aws, tmp_path):
    config = tmp_path / "config"
    config.write_text(
        textwrap.dedent(
            """
            [profile lab]
            region = eu-central-1
            retry_mode = adaptive
            max_attempts = 7
            aws_access_key_id = AKIDPROFILE
            aws_secret_access_key = secret-profile
            """
        )
    )
    aws.setenv("AWS_CONFIG_FILE", str(config))
    aws.setenv("AWS_PROFILE", "lab")
    filesystem = s3_filesystem()
    client = client_of(filesystem)
    assert client.meta.region_name == "eu-central-1"
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert credentials_of(filesystem).access_key == "AKIDPROFILE"


def test_the_taskloom_configuration_file_fills_in_what_the_environment_does_not_say(aws, tmp_path):
    config = tmp_path / "taskloom.toml"
    config.write_text('[s3]\nendpoint_url = "http://127.0.0.1:11"\nregion = "sa-east-1"\nmax_attempts = 9\n')
    aws.setenv("TASKLOOM_CONFIG", str(config))
    aws.setenv("AWS_REGION", "eu-north-1")  # the environment wins
    settings = read_settings()
    assert (settings.endpoint_url, settings.region, settings.max_attempts) == ("http://127.0.0.1:11", "eu-north-1", 9)


def test_throttling_is_retried_in_standard_mode_with_five_attempts_unless_configured(aws):
    assert client_of(s3_filesystem()).meta.config.retries == {"mode": "standard", "total_max_attempts": 5}
    aws.setenv("AWS_RETRY_MODE", "adaptive")
    aws.setenv("AWS_MAX_ATTEMPTS", "12")
    assert client_of(s3_filesystem()).meta.config.retries == {"mode": "adaptive", "total_max_attempts": 12}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AWS_MAX_ATTEMPTS", "many", r"\$AWS_MAX_ATTEMPTS is 'many'; expected a whole number of attempts"),
        ("AWS_RETRY_MODE", "eager", r"\$AWS_RETRY_MODE is 'eager'; expected one of legacy, standard, adaptive"),
    ],
)
def test_an_unusable_setting_is_named(aws, variable, value, message):
    aws.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        read_settings()


def test_a_misconfigured_plugin_keeps_serving_s3_and_the_error_names_the_uri_and_the_variable(aws, tmp_path):
    aws.setenv("AWS_MAX_ATTEMPTS", "0")
    with pytest.raises(StorageError) as caught:
        download("s3://bucket/key.csv", str(tmp_path / "key.csv"))
    message = str(caught.value)
    assert "could not download s3://bucket/key.csv" in message and "taskloom-s3 is misconfigured" in message
    assert "$AWS_MAX_ATTEMPTS is '0'" in message
    aws.delenv("AWS_MAX_ATTEMPTS")
    assert isinstance(get_filesystem("s3"), S3FileSystem)  # the plugin was not marked failed


def test_one_filesystem_per_configuration_and_a_new_one_when_credentials_change(aws):
    aws.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    aws.setenv("AWS_ACCESS_KEY_ID", "AKIDONE")
    first = s3_filesystem()
    assert s3_filesystem() is first
    aws.setenv("AWS_ACCESS_KEY_ID", "AKIDTWO")
    second = s3_filesystem()
    assert second is not first and credentials_of(second).access_key == "AKIDTWO"


def test_settings_keep_a_digest_of_the_credentials_never_the_keys(aws):
    aws.setenv("AWS_SECRET_ACCESS_KEY", "do-not-keep-me")
    settings = read_settings()
    assert "do-not-keep-me" not in repr(settings) and len(settings.credentials) == 64


def test_the_hook_serves_s3_and_s3a_and_leaves_other_protocols(aws):
    assert get_filesystem("s3") is get_filesystem("s3a")
    with pytest.raises(StorageError, match="'gs://'"):
        get_filesystem("gs")


def test_loading_the_plugin_imports_neither_s3fs_nor_botocore():
    code = textwrap.dedent(
        """
        import sys
        import taskloom_s3.hooks
        from taskloom.plugins import get_plugin_manager
        get_plugin_manager().hook.taskloom_filesystem(protocol="memory")
        print(sorted(name for name in ("s3fs", "botocore", "aiobotocore") if name in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
