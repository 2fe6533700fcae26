"""The SDMX source (through sdmx1) against a local server answering with real ECB, Eurostat
and IMF messages."""

from __future__ import annotations

import io
import logging
import zipfile
from typing import Any

import pandas as pd
import pytest

from monitor.config import SdmxSource as SdmxConfig
from monitor.sources.base import SourceError
from monitor.sources.sdmx import ACCEPT_21, ACCEPT_30, SdmxSource
from tests.monitor.httpserver import LocalServer, Reply, Request, fixture_bytes

ECB = "ecb_sdmxml21_generic_EXR_M.USD.EUR.SP00.A_2018_2019.xml"
ECB_PATH = "/data/EXR/M.USD.EUR.SP00.A"
NAMA = "estat_sdmxml21_structurespecific_NAMA_10_GDP.xml"
FOOTER = "estat_sdmxml21_footer_413_async.xml"
EUROSTAT_FILE = "http://ec.europa.eu/eurostat/SDMX/diss-web/file/wHsvjs7hQCy7Dqf4"
FAST = {"attempts": 3, "backoff": "10ms", "max_backoff": "50ms", "deadline": "5s"}


def config(server: LocalServer, **fields: Any) -> SdmxConfig:
    return SdmxConfig.model_validate({
        "kind": "sdmx", "name": "ecb_usd", "provider": "ECB", "dataflow": "EXR",
        "key": "M.USD.EUR.SP00.A", "base_url": server.url, "timeout": "2s", "retry": FAST,
        "dimensions": {"reporter": "CURRENCY_DENOM", "partner": "CURRENCY"},
        "labels": {"unit": "USD per EUR"}, **fields,
    })


def failure(source: SdmxSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        source.fetch()
    return caught.value


def test_ecb_generic_data(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply.fixture(ECB))
    result = SdmxSource(config(local_server, params={"startPeriod": "2018-01"})).fetch()
    frame = result.frame
    assert result.problems == ()
    assert frame["series"].unique().tolist() == ["eur-usd"]
    assert [str(p) for p in frame["period"]] == [
        str(p) for p in pd.period_range("2018-01", "2019-12", freq="M")]
    assert frame["value"].tolist()[:2] == [1.21995, 1.23478]
    assert frame["value"].tolist()[-1] == 1.111345
    assert frame.iloc[0].to_dict() == {
        "series": "eur-usd", "period": pd.Period("2018-01", "M"), "value": 1.21995,
        "partner": "USD", "reporter": "EUR", "source": "ecb_usd", "unit": "USD per EUR",
    }
    (request,) = local_server.to(ECB_PATH)
    assert request.query == {"startPeriod": "2018-01"}
    assert request.headers["accept"] == ACCEPT_21


def test_codes_map_dimension_values_to_labels(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply.fixture(ECB))
    cfg = config(local_server, dimensions={"partner": "CURRENCY", "flow": "EXR_TYPE"},
                 codes={"flow": {"SP00": "export"}}, labels={"reporter": "EU"})
    frame = SdmxSource(cfg).fetch().frame
    assert frame["series"].unique().tolist() == ["eu-usd/export"]


def test_without_a_mapping_every_dimension_is_a_label(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply.fixture(ECB))
    frame = SdmxSource(config(local_server, dimensions={})).fetch().frame
    assert set(frame.columns) >= {"freq", "currency", "currency_denom", "exr_type", "exr_suffix"}
    assert frame["series"].nunique() == 1


def test_a_dimension_that_is_not_in_the_data(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply.fixture(ECB))
    error = failure(SdmxSource(config(local_server, dimensions={"partner": "COUNTERPART_AREA"})))
    assert error.reason == "parse"
    assert str(error) == ("source 'ecb_usd': dimension(s) COUNTERPART_AREA not in the data; "
                          "it has FREQ, CURRENCY, CURRENCY_DENOM, EXR_TYPE, EXR_SUFFIX")


def test_eurostat_structure_specific_annual(local_server: LocalServer) -> None:
    local_server.route("/data/nama_10_gdp/A.CP_MEUR.B1GQ.LU", Reply.fixture(NAMA))
    cfg = config(local_server, name="lux_gdp", provider="ESTAT", dataflow="nama_10_gdp",
                 key="A.CP_MEUR.B1GQ.LU", frequency="A", dimensions={"reporter": "geo"}, labels={})
    frame = SdmxSource(cfg).fetch().frame
    assert frame[["series", "value"]].to_dict("list") == {
        "series": ["lux"] * 4, "value": [46526.2, 49094.5, 51791.3, 54142.3]}
    assert [str(p) for p in frame["period"]] == ["2012", "2013", "2014", "2015"]


def test_imf_structure_specific_monthly(local_server: LocalServer) -> None:
    local_server.route("/data/PCPS/M.W00.PZINC",
                       Reply.fixture("imf_sdmxml21_structurespecific_PCPS_monthly.xml"))
    cfg = config(local_server, name="zinc", provider="IMF_DATA", dataflow="PCPS", key="M.W00.PZINC",
                 dimensions={"reporter": "REF_AREA", "commodity": "COMMODITY"}, labels={"unit": "USD"})
    frame = SdmxSource(cfg).fetch().frame
    assert frame[["series", "value"]].to_dict("list") == {"series": ["w00/pzinc"], "value": [2705.345]}
    assert str(frame["period"].iloc[0]) == "2021-01"


def test_other_frequencies_are_skipped_and_said(local_server: LocalServer) -> None:
    # An SDMX-JSON 1.0 message with daily series, asked for as monthly.
    local_server.route("/data/EXR/D.NZD+RUB.EUR.SP00.A",
                       Reply.fixture("sdmxjson10_ECB_EXR_timeseries.json"))
    result = SdmxSource(config(local_server, key="D.NZD+RUB.EUR.SP00.A")).fetch()
    assert result.frame.empty
    assert result.problems == ("skipped 4 observation(s) not of frequency M",)
    daily_as_monthly = SdmxSource(config(local_server, key="D.NZD+RUB.EUR.SP00.A", dimensions={}))
    assert daily_as_monthly.fetch().problems == ("skipped 4 observation(s) not of frequency M",)


def negotiating(request: Request) -> Reply:
    """Like the IMF's SDMX 3.0 API: SDMX-JSON 2.0 unless XML is asked for."""
    if "xml" in request.headers.get("accept", ""):
        return Reply.fixture("imf_sdmxml21_structurespecific_PCPS_monthly.xml")
    return Reply.fixture("imf_sdmx30_json_data_WHDREO_GX1213.BCA_GDP_BP6.A.json")


def test_imf_sdmx3_is_asked_for_sdmx_ml(local_server: LocalServer) -> None:
    path = "/data/*/IMF.RES/PCPS/+/M.W00.PZINC"
    local_server.route(path, negotiating)
    cfg = config(local_server, provider="IMF_DATA3", dataflow="PCPS", agency="IMF.RES",
                 key="M.W00.PZINC", dimensions={"reporter": "REF_AREA"})
    assert SdmxSource(cfg).fetch().frame["value"].tolist() == [2705.345]
    (request,) = local_server.to(path)
    assert request.headers["accept"] == ACCEPT_30


def test_sdmx_json_2_is_a_parse_error_that_says_what_to_do(local_server: LocalServer) -> None:
    path = "/data/WHDREO/GX1213.BCA_GDP_BP6.A"
    local_server.route(path, negotiating)
    cfg = config(local_server, provider="IMF_DATA", dataflow="WHDREO", key="GX1213.BCA_GDP_BP6.A",
                 accept="application/json")
    error = failure(SdmxSource(cfg))
    assert error.reason == "parse"
    assert str(error).startswith(f"source 'ecb_usd': cannot parse {local_server.url}{path} as SDMX (")
    assert str(error).endswith("; it is SDMX-JSON 2.0, which sdmx1 cannot read: ask for SDMX-ML "
                               "(the default `accept`) or the provider's own format parameter")


def test_a_key_given_as_a_mapping_is_ordered_by_the_dsd(local_server: LocalServer) -> None:
    local_server.route("/dataflow/ECB/EXR/latest",
                       Reply.fixture("ecb_sdmxml21_structure_EXR_dataflow.xml"))
    local_server.route(ECB_PATH, Reply.fixture(ECB))
    source = SdmxSource(config(local_server, key={
        "CURRENCY": "USD", "EXR_SUFFIX": "A", "FREQ": "M", "CURRENCY_DENOM": "EUR", "EXR_TYPE": "SP00"}))
    assert len(source.fetch().frame) == 24
    assert len(source.fetch().frame) == 24
    assert len(local_server.to("/dataflow/ECB/EXR/latest")) == 1  # the DSD is read once
    assert len(local_server.to(ECB_PATH)) == 2


def eurostat_413(local_server: LocalServer) -> bytes:
    """The real 413 answer, its file URL pointed at the local server."""
    return fixture_bytes(FOOTER).replace(EUROSTAT_FILE.encode(), f"{local_server.url}/file/abc".encode())


def zipped(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.xml", fixture_bytes(name))
    return buffer.getvalue()


def estat(local_server: LocalServer, **fields: Any) -> SdmxConfig:
    return config(local_server, name="lux_gdp", provider="ESTAT", dataflow="nama_10_gdp", key=None,
                  frequency="A", dimensions={"reporter": "geo"}, labels={}, **fields)


def test_eurostat_come_back_later_is_polled_until_the_file_is_there(local_server: LocalServer) -> None:
    local_server.route("/data/nama_10_gdp", Reply(200, eurostat_413(local_server)))
    local_server.route("/file/abc", Reply(404, b"not yet"), Reply(404, b"not yet"),
                       Reply(200, zipped(NAMA), {"Content-Type": "application/octet-stream"}))
    source = SdmxSource(estat(local_server, not_ready={"every": "50ms", "deadline": "3s"}))
    frame = source.fetch().frame
    assert frame["value"].tolist() == [46526.2, 49094.5, 51791.3, 54142.3]
    assert len(local_server.to("/file/abc")) == 3


def test_eurostat_not_ready_by_the_deadline(local_server: LocalServer) -> None:
    local_server.route("/data/nama_10_gdp", Reply(200, eurostat_413(local_server)))
    local_server.route("/file/abc", Reply(404, b"not yet"))
    source = SdmxSource(estat(local_server, not_ready={"every": "50ms", "deadline": "200ms"}))
    error = failure(source)
    assert error.reason == "not_ready"
    assert str(error) == (f"source 'lux_gdp': the large-query file {local_server.url}/file/abc is not "
                          "ready yet; asking for it again on the next poll")
    # The next poll collects the same file instead of starting a new query.
    local_server.route("/file/abc", Reply(200, zipped(NAMA)))
    assert len(source.fetch().frame) == 4
    assert len(local_server.to("/data/nama_10_gdp")) == 1


def test_no_results_is_an_empty_frame(local_server: LocalServer) -> None:
    body = (b'<?xml version="1.0"?><mes:Error xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/'
            b'v2_1/message"><mes:ErrorMessage code="100"><com:Text>No Results Found</com:Text>'
            b'</mes:ErrorMessage></mes:Error>')
    local_server.route(ECB_PATH, Reply(404, body))
    result = SdmxSource(config(local_server)).fetch()
    assert result.frame.empty and result.problems == ()


def test_a_plain_404_is_an_error(local_server: LocalServer) -> None:
    error = failure(SdmxSource(config(local_server, dataflow="EXRR")))
    assert error.reason == "http_4xx"
    assert str(error) == f"source 'ecb_usd': {local_server.url}/data/EXRR/M.USD.EUR.SP00.A answered HTTP 404"


def test_rate_limited_then_served(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply(429, b"", {"Retry-After": "1"}), Reply.fixture(ECB))
    assert len(SdmxSource(config(local_server)).fetch().frame) == 24


def test_server_error_then_served(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply(502), Reply.fixture(ECB))
    assert len(SdmxSource(config(local_server)).fetch().frame) == 24


def test_server_errors_forever(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply(500))
    error = failure(SdmxSource(config(local_server)))
    assert error.reason == "http_5xx"
    assert str(error) == (f"source 'ecb_usd': {local_server.url}{ECB_PATH} answered HTTP 500 "
                          "(gave up after 3 attempts)")


def test_timeout(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply.fixture(ECB, wait=5))
    error = failure(SdmxSource(config(local_server, timeout="300ms", retry={**FAST, "attempts": 1})))
    assert (error.reason, str(error)) == (
        "timeout", f"source 'ecb_usd': timed out reading {local_server.url}{ECB_PATH}")


def test_malformed_body(local_server: LocalServer) -> None:
    local_server.route(ECB_PATH, Reply(200, fixture_bytes(ECB)[:3000]))
    error = failure(SdmxSource(config(local_server)))
    assert error.reason == "parse"
    assert str(error).startswith(f"source 'ecb_usd': cannot parse {local_server.url}{ECB_PATH} as SDMX (")


def test_credentials_in_the_base_url_never_show(local_server: LocalServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    base = local_server.url.replace("http://", "http://desk:hunter22@") + "/sdmx"
    local_server.route(f"/sdmx{ECB_PATH}", Reply(503))
    with caplog.at_level(logging.INFO):
        error = failure(SdmxSource(config(local_server, base_url=base, params={"api_key": "k-424242"})))
    text = str(error) + caplog.text
    assert "hunter22" not in text and "k-424242" not in text
    assert "http://***@127.0.0.1" in str(error) and "api_key=***" in str(error)


def test_unknown_provider_is_a_config_error(local_server: LocalServer) -> None:
    with pytest.raises(ValueError, match=r"unknown SDMX provider 'IMFF'; known: .*IMF_DATA"):
        config(local_server, provider="IMFF")


def test_a_large_query_file_that_is_gone_starts_a_new_query(local_server: LocalServer) -> None:
    local_server.route("/data/nama_10_gdp", Reply(200, eurostat_413(local_server)), Reply.fixture(NAMA))
    local_server.route("/file/abc", Reply(410, b"expired"))
    source = SdmxSource(estat(local_server, not_ready={"every": "50ms", "deadline": "1s"}))
    assert failure(source).reason == "http_4xx"
    assert len(source.fetch().frame) == 4
    assert len(local_server.to("/data/nama_10_gdp")) == 2
