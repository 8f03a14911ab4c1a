using System;
using System.Collections.Generic;

namespace OBAgent
{
    /// <summary>A recovery to start (ob_recovery_request); the passphrase travels separately as SecretBytes.</summary>
    internal sealed class RecoveryRequestInfo
    {
        internal string ServerName;
        internal string PointId;
        internal long DatasourceId;
        internal IList<string> Items;
        internal string Destination;
        internal int Overwrite;
        internal bool SkipSecurity;
        internal bool SpecialFiles;
    }
}
