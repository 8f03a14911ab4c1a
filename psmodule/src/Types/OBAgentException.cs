using System;
using System.Management.Automation;

namespace OBAgent
{
    /// <summary>
    /// A failure reported by libobagent. NativeCode is the ob_error_code value, NativeName its
    /// constant name (e.g. OB_EEXPIRED); ErrorId and Category are what the ErrorRecord carries
    /// (see Interop/ErrorMap.cs).
    /// </summary>
    public sealed class OBAgentException : Exception
    {
        internal OBAgentException(string message, int nativeCode, string nativeName, string errorId, ErrorCategory category)
            : base(message)
        {
            NativeCode = nativeCode;
            NativeName = nativeName;
            ErrorId = errorId;
            Category = category;
        }

        public int NativeCode { get; private set; }

        public string NativeName { get; private set; }

        public string ErrorId { get; private set; }

        public ErrorCategory Category { get; private set; }
    }
}
