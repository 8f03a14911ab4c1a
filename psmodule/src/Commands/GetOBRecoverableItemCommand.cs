using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Security;
using OBAgent.Interop;
using OBAgent.Mapping;

namespace OBAgent.Commands
{
    /// <summary>
    /// Get-OBRecoverableItem, three parameter sets as MSOnlineBackup:
    ///   -Source          the recovery points of a data source, newest first (items with IsDir $true);
    ///   -ParentItem      one level of a point or folder (browse);
    ///   -RecoveryPoint -Location -SearchString   items below a folder whose names match (search).
    /// -PagingContext (New-OBPagingContext) returns a page per call on the browse and search sets.
    /// -EncryptionPassphrase (obagent extension) opens another server's backups.
    ///
    /// Refusals made here: RecoverableItemNotUsable (InvalidArgument), an item that did not come
    /// from this module; NotAFolder (InvalidArgument), -ParentItem of a file; LocationNotInSource
    /// (InvalidArgument), a -Location outside the point's data source.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "OBRecoverableItem", DefaultParameterSetName = SourceSet)]
    [OutputType(typeof(OBRecoverableItem))]
    public sealed class GetOBRecoverableItemCommand : OBCmdletBase
    {
        private const string SourceSet = "Source";
        private const string BrowseSet = "Browse";
        private const string SearchSet = "Search";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = SourceSet)]
        [ValidateNotNull]
        public OBRecoverableSource Source { get; set; }

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = BrowseSet)]
        [ValidateNotNull]
        public OBRecoverableItem ParentItem { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SearchSet)]
        [ValidateNotNull]
        public OBRecoverableItem RecoveryPoint { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SearchSet)]
        [AllowEmptyString]
        public string Location { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SearchSet)]
        [ValidateNotNullOrEmpty]
        public string SearchString { get; set; }

        [Parameter(ParameterSetName = BrowseSet)]
        [Parameter(ParameterSetName = SearchSet)]
        public OBPagingContext PagingContext { get; set; }

        [Parameter]
        public SecureString EncryptionPassphrase { get; set; }

        protected override object ErrorTarget
        {
            get { return (object)Source ?? (object)ParentItem ?? RecoveryPoint; }
        }

        protected override void Execute()
        {
            using (AgentHandle agent = Native.AgentOpen(null))
            {
                switch (ParameterSetName)
                {
                    case SourceSet:
                        ListPoints(agent);
                        break;
                    case BrowseSet:
                        Browse(agent);
                        break;
                    case SearchSet:
                        Search(agent);
                        break;
                }
            }
        }

        /// <summary>
        /// The points of the source, newest first. Another server's are listed without its passphrase
        /// (as MARS does: the passphrase goes to Start-OBRecovery) from the summaries that server
        /// signed; given a passphrase, they are read from the sealed points themselves.
        /// </summary>
        private void ListPoints(AgentHandle agent)
        {
            if (Source.OtherServer != null && EncryptionPassphrase == null)
            {
                WritePoints(Native.RecoveryPointsOf(agent, Source.OtherServer));
                return;
            }
            using (RecoveryHandle rec = RecoveryItems.Open(agent, Source.OtherServer, EncryptionPassphrase))
            {
                WritePoints(Native.RecoveryListPoints(rec));
            }
        }

        private void WritePoints(List<RecoveryPointInfo> points)
        {
            foreach (RecoveryPointInfo p in points)
            {
                // Sealed or damaged: its data sources are not known here, so it is listed under every
                // source, with a warning, never hidden.
                bool unknown = p.Sealed || p.Damaged;
                if (unknown)
                    WriteWarning(p.Sealed ? RecoveryItems.SealedPointWarning(p) : RecoveryItems.DamagedPointWarning(p));
                if (unknown || Array.IndexOf(p.DatasourceIds, Source.DatasourceId) >= 0)
                    WriteObject(RecoveryItems.PointItem(p, Source.FriendlyName, Source.DatasourceId, Source.OtherServer));
            }
        }

        private bool CheckUsable(OBRecoverableItem item)
        {
            if (item.Usable)
                return true;
            ThrowError("This recoverable item was not made by Get-OBRecoverableItem or New-OBRecoverableItem in this session "
                + "(it may have been deserialized); get it again with Get-OBRecoverableItem.",
                "RecoverableItemNotUsable", ErrorCategory.InvalidArgument, item);
            return false;
        }

        private void Browse(AgentHandle agent)
        {
            if (!CheckUsable(ParentItem))
                return;
            if (!ParentItem.IsDir)
            {
                ThrowError(string.Format("'{0}' is a file; -ParentItem takes a recovery point or a folder.", ParentItem.ItemNameFriendly),
                    "NotAFolder", ErrorCategory.InvalidArgument, ParentItem);
                return;
            }
            string query = string.Join("\n", "browse", ParentItem.ServerName, ParentItem.RecoveryPointId,
                ParentItem.DatasourceId.ToString(CultureInfo.InvariantCulture), ParentItem.RelativePath);
            long skip = StartPage(query);
            if (skip < 0)
                return;
            List<RecoverableItemInfo> items;
            using (RecoveryHandle rec = RecoveryItems.Open(agent, ParentItem.OtherServer, EncryptionPassphrase))
            {
                items = Native.RecoveryBrowse(rec, ParentItem.RecoveryPointId, ParentItem.DatasourceId, ParentItem.RelativePath);
            }
            WritePage(ParentItem, items, skip);
        }

        private void Search(AgentHandle agent)
        {
            if (!CheckUsable(RecoveryPoint))
                return;
            string location = RelativeLocation(Location, RecoveryPoint.MountPointName);
            if (location == null)
            {
                ThrowError(string.Format("The location '{0}' is not in the data source '{1}' of this recovery point. Give a folder below '{1}', "
                    + "or a path relative to it.", Location, RecoveryPoint.MountPointName),
                    "LocationNotInSource", ErrorCategory.InvalidArgument, Location);
                return;
            }
            string query = string.Join("\n", "search", RecoveryPoint.ServerName, RecoveryPoint.RecoveryPointId,
                RecoveryPoint.DatasourceId.ToString(CultureInfo.InvariantCulture), location, SearchString);
            long skip = StartPage(query);
            if (skip < 0)
                return;
            ulong max = PagingContext == null ? 0UL : (ulong)(skip + PagingContext.PageSize + 1);
            List<RecoverableItemInfo> items;
            using (RecoveryHandle rec = RecoveryItems.Open(agent, RecoveryPoint.OtherServer, EncryptionPassphrase))
            {
                items = Native.RecoverySearch(rec, RecoveryPoint.RecoveryPointId, RecoveryPoint.DatasourceId, location, SearchString, max);
            }
            WritePage(RecoveryPoint, items, skip);
        }

        /// <summary>
        /// A -Location as a folder relative to the data source's root: an absolute path loses the
        /// data source's prefix ("/srv/data" in "/srv" is "data"); a relative one is taken as it is.
        /// Null when an absolute path is outside the data source, or holds "." or "..".
        /// </summary>
        internal static string RelativeLocation(string location, string source)
        {
            if (string.IsNullOrEmpty(location))
                return "";
            string loc = location.Replace('\\', '/');
            string src = (source ?? "").Replace('\\', '/');
            bool absolute = loc.StartsWith("/", StringComparison.Ordinal) || (loc.Length >= 2 && loc[1] == ':');
            if (absolute)
            {
                bool windows = src.Length >= 2 && src[1] == ':';
                StringComparison cmp = windows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                string prefix = src.TrimEnd('/');
                if (prefix.Length > 0)
                {
                    if (!loc.StartsWith(prefix, cmp) || (loc.Length > prefix.Length && loc[prefix.Length] != '/'))
                        return null;
                    loc = loc.Substring(prefix.Length);
                }
            }
            return RecoveryItems.NormalizeRelative(loc);
        }

        /// <summary>How many items to skip for this call; -1 when the context is done (nothing to write).</summary>
        private long StartPage(string query)
        {
            if (PagingContext == null)
                return 0;
            if (PagingContext.Query != query)
            {
                PagingContext.Query = query;
                PagingContext.ItemsReturned = 0;
                PagingContext.IsComplete = false;
            }
            return PagingContext.IsComplete ? -1 : PagingContext.ItemsReturned;
        }

        private void WritePage(OBRecoverableItem parent, List<RecoverableItemInfo> items, long skip)
        {
            long end = items.Count;
            if (PagingContext != null)
            {
                end = Math.Min(items.Count, skip + PagingContext.PageSize);
                PagingContext.ItemsReturned = Math.Max(skip, end);
                PagingContext.IsComplete = end >= items.Count;
            }
            for (long i = skip; i < end; i++)
                WriteObject(RecoveryItems.FromInfo(parent, items[(int)i]));
        }
    }
}
