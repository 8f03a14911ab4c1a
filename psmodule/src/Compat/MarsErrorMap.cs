using OBAgent.Interop;
using MarsCode = Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors.ErrorCode;

namespace OBAgent.Compat
{
    /// <summary>
    /// The one table from the engine's ob_error_code to MARS's numeric code (docs/MARS-TYPES.md).
    /// </summary>
    internal static class MarsErrorMap
    {
        internal static int ToMars(int engineCode)
        {
            if (engineCode == 0)
                return (int)MarsCode.None;
            switch ((ErrorCode)engineCode)
            {
                case ErrorCode.Passphrase: return (int)MarsCode.PassphraseNotConfigured;
                case ErrorCode.Expired: return (int)MarsCode.InvalidVaultCredentials;
                case ErrorCode.Foreign: return (int)MarsCode.VaultMismatch;
                case ErrorCode.Auth: return (int)MarsCode.SecurityPinIncorrect;
                default: return (int)MarsCode.ObAgentError;
            }
        }
    }
}
