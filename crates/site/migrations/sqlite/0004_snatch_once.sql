-- A snatch counts once per (user, torrent): the flush dates each user's first snatch of a
-- torrent (snatched_at) and adds only those to the torrent's count. Rows snatched before
-- snatched_at was kept get a date, so they are not counted again; and the counts inflated by
-- repeated `completed` events are recounted.
UPDATE user_torrents SET snatched_at = last_seen WHERE snatches > 0 AND snatched_at IS NULL;
UPDATE torrents SET completed = (
    SELECT COUNT(*) FROM user_torrents ut WHERE ut.torrent_id = torrents.id AND ut.snatches > 0
) WHERE completed <> (
    SELECT COUNT(*) FROM user_torrents ut WHERE ut.torrent_id = torrents.id AND ut.snatches > 0
);
