namespace Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors
{
    /// <summary>
    /// MARS's numeric error codes (the IDs its messages show), those the MARS reference records.
    /// Jobs carry one in ErrorInfo.ErrorCode (mapped from the engine's error in MarsErrorMap).
    /// ObAgentError is obagent's own: an engine error MARS has no recorded code for.
    /// </summary>
    public enum ErrorCode
    {
        None = 0,
        ObAgentError = 1,
        PassphraseNotConfigured = 34506,
        InvalidVaultCredentials = 34513,
        VaultMismatch = 100110,
        SecurityPinIncorrect = 100130,
    }
}
