namespace TemporalTestServer.Grpc;

/// <summary>gRPC status codes used by the server (the subset of google.rpc.Code it needs).</summary>
public enum StatusCode
{
    Ok = 0,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    FailedPrecondition = 9,
    Unimplemented = 12,
    Internal = 13,
}

/// <summary>A failed call: ends the RPC with a gRPC status, a message and optional typed details.</summary>
public sealed class GrpcStatusException(StatusCode code, string message, IMessage? detail = null) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>The <c>grpc-status-details-bin</c> trailer (a google.rpc.Status), or null without details.</summary>
    public byte[]? DetailsBin => detail is null
        ? null
        : new GrpcStatus { Code = (int)Code, Message = Message, Details = { Any.Pack(detail) } }.ToByteArray();

    public static GrpcStatusException NotFound(string what) => new(StatusCode.NotFound, what);
}
