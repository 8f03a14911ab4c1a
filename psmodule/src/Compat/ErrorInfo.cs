namespace Microsoft.Internal.EnterpriseStorage.Dls.Utils.Errors
{
    /// <summary>MARS's ErrorInfo: the problem and the resolution for an error code.</summary>
    public sealed class ErrorInfo
    {
        public ErrorInfo(ErrorCode errorCode)
        {
            ErrorCode = errorCode;
            switch (errorCode)
            {
                case ErrorCode.None:
                    Problem = "The operation completed successfully.";
                    Resolution = "";
                    break;
                case ErrorCode.PassphraseNotConfigured:
                    Problem = "The encryption passphrase is not correctly configured.";
                    Resolution = "Set it with Set-OBMachineSetting -EncryptionPassphrase.";
                    break;
                case ErrorCode.InvalidVaultCredentials:
                    Problem = "Invalid vault credentials provided. The file is either corrupted or expired.";
                    Resolution = "Download a new vault credentials file (Get-OBVaultCredentials) and register again.";
                    break;
                case ErrorCode.VaultMismatch:
                    Problem = "The vault credentials file is for a different vault than the one this server is registered to.";
                    Resolution = "Use a vault credentials file of the vault this server is registered to.";
                    break;
                case ErrorCode.SecurityPinIncorrect:
                    Problem = "Security PIN entered is incorrect.";
                    Resolution = "Get a new security PIN from the vault owner (New-OBSecurityPin) and use it within 5 minutes.";
                    break;
                default:
                    Problem = "The operation failed.";
                    Resolution = "Read the job's ErrorInfo.ErrorMessage (DetailedErrorCode holds obagent's engine code).";
                    break;
            }
        }

        public ErrorCode ErrorCode { get; private set; }

        public string Problem { get; private set; }

        public string Resolution { get; private set; }
    }
}
