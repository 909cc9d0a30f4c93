using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Temporalio.Api.Common.V1;
using Temporalio.Converters;
using Worker.Temporal.Codec;

namespace Worker.Tests.Codec;

/// <summary>
/// The codec server on the worker's API, as the Temporal Web UI and CLI call it: authenticated by the API's keys, open to
/// browser pages of the configured origin only, and answering bad input with a problem document.
/// </summary>
public sealed class CodecEndpointTests(OrdersDatabase db) : IClassFixture<OrdersDatabase>
{
    private const string UiOrigin = "http://localhost:8081";

    private WorkerFactory Factory(bool encryption = true)
    {
        var settings = WorkerFactory.DefaultSettings(db.ConnectionString, null);
        if (encryption)
        {
            settings["Temporal:Encryption:Keys:k1"] = AesGcmPayloadCodecTests.Secret1;
            settings["Temporal:Encryption:Keys:k2"] = AesGcmPayloadCodecTests.Secret2;
            settings["Temporal:Encryption:CurrentKeyId"] = "k2";
            settings["Temporal:Encryption:CodecCorsOrigin"] = UiOrigin;
        }
        return new WorkerFactory(settings);
    }

    private static string Body(params Payload[] payloads) => JsonFormatter.Default.Format(new Payloads { Payloads_ = { payloads } });

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<List<Payload>> PayloadsOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonParser.Default.Parse<Payloads>(await response.Content.ReadAsStringAsync()).Payloads_];
    }

    [Fact]
    public async Task Encode_then_decode_gives_back_the_payloads_encrypted_under_the_current_key()
    {
        using var factory = Factory();
        var api = factory.CreateAuthorizedClient();
        var plain = DataConverter.Default.PayloadConverter.ToPayload(new { Sku = "GRINDER", Quantity = 3 });

        var encoded = await PayloadsOf(await api.PostAsync("/codec/encode", Json(Body(plain))));
        var decoded = await PayloadsOf(await api.PostAsync("/codec/decode?preserveStorageRefs=true", Json(Body([.. encoded]))));

        Assert.Equal("k2", AesGcmPayloadCodec.KeyIdOf(Assert.Single(encoded)));
        Assert.DoesNotContain("GRINDER", encoded[0].Data.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(plain, Assert.Single(decoded));
    }

    [Fact]
    public async Task Decoding_a_payload_of_an_older_key_and_a_clear_one_works_in_one_call()
    {
        using var factory = Factory();
        var old = (await AesGcmPayloadCodecTests.Codec("k1", ("k1", AesGcmPayloadCodecTests.Secret1))
            .EncodeAsync([DataConverter.Default.PayloadConverter.ToPayload("under k1")])).Single();
        var clear = DataConverter.Default.PayloadConverter.ToPayload("never encrypted");

        var decoded = await PayloadsOf(await factory.CreateAuthorizedClient().PostAsync("/codec/decode", Json(Body(old, clear))));

        Assert.Equal([DataConverter.Default.PayloadConverter.ToPayload("under k1"), clear], decoded);
    }

    [Fact]
    public async Task An_unknown_key_id_answers_422_naming_it()
    {
        using var factory = Factory();
        var foreign = (await AesGcmPayloadCodecTests.Codec("k3", ("k3", AesGcmPayloadCodecTests.Secret1))
            .EncodeAsync([DataConverter.Default.PayloadConverter.ToPayload("x")])).Single();

        var response = await factory.CreateAuthorizedClient().PostAsync("/codec/decode", Json(Body(foreign)));

        var problem = await Api.OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("'k3'", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(AesGcmPayloadCodecTests.Secret1, detail, StringComparison.Ordinal);
        Assert.DoesNotContain(AesGcmPayloadCodecTests.Secret2, detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", HttpStatusCode.BadRequest)]
    [InlineData("""{"payloads":[{"data":"%%%"}]}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"payloads":{}}""", HttpStatusCode.BadRequest)]
    public async Task Malformed_bodies_answer_a_problem(string body, HttpStatusCode status)
    {
        using var factory = Factory();

        await Api.OrderApiValidationTests.AssertProblemAsync(await factory.CreateAuthorizedClient().PostAsync("/codec/decode", Json(body)), status);
    }

    [Fact]
    public async Task A_body_that_is_not_json_or_too_large_is_refused()
    {
        using var factory = Factory();
        var api = factory.CreateAuthorizedClient();

        await Api.OrderApiValidationTests.AssertProblemAsync(
            await api.PostAsync("/codec/decode", new StringContent("{}", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await Api.OrderApiValidationTests.AssertProblemAsync(
            await api.PostAsync("/codec/encode", Json(new string(' ', PayloadCodecEndpoints.MaxBodyBytes + 1))), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Without_a_key_the_codec_answers_401_with_a_basic_challenge()
    {
        using var factory = Factory();
        var anonymous = factory.CreateClient();
        var wrong = factory.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-key");

        foreach (var client in new[] { anonymous, wrong })
        {
            var response = await client.PostAsync("/codec/decode", Json(Body()));
            await Api.OrderApiValidationTests.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/codec/")).StatusCode);
    }

    [Fact]
    public async Task The_key_is_taken_from_x_api_key_bearer_or_the_basic_password()
    {
        using var factory = Factory();
        var bearer = factory.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WorkerFactory.ApiKey);
        var basic = factory.CreateClient();
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"anyone:{WorkerFactory.ApiKey}")));

        foreach (var client in new[] { factory.CreateAuthorizedClient(), bearer, basic })
        {
            Assert.Empty(await PayloadsOf(await client.PostAsync("/codec/decode", Json(Body()))));
        }
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync("/codec/")).StatusCode);
    }

    [Fact]
    public async Task The_rest_of_the_api_still_takes_its_key_only_from_x_api_key()
    {
        using var factory = Factory();
        var bearer = factory.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WorkerFactory.ApiKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync("/api/products")).StatusCode);
    }

    [Fact]
    public async Task Only_the_configured_origin_passes_the_browsers_preflight_with_credentials()
    {
        using var factory = Factory();
        var client = factory.CreateClient();

        using var allowed = await client.SendAsync(Preflight(UiOrigin));
        using var other = await client.SendAsync(Preflight("http://evil.example"));

        Assert.Equal(UiOrigin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", allowed.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Contains("x-namespace", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));

        // And the answer itself carries the header only for that origin.
        var request = new HttpRequestMessage(HttpMethod.Post, "/codec/decode") { Content = Json(Body()) };
        request.Headers.Add("Origin", UiOrigin);
        request.Headers.Add("X-Api-Key", WorkerFactory.ApiKey);
        using var answer = await client.SendAsync(request);
        Assert.Equal(UiOrigin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());

        static HttpRequestMessage Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/codec/decode");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "content-type,x-namespace");
            return request;
        }
    }

    [Fact]
    public async Task With_encryption_off_there_is_no_codec_endpoint()
    {
        using var factory = Factory(encryption: false);

        Assert.Equal(HttpStatusCode.NotFound, (await factory.CreateAuthorizedClient().PostAsync("/codec/decode", Json(Body()))).StatusCode);
    }
}
