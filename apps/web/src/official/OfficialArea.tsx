/** The officials' part of the app (a lazy chunk: citizens never load it). */
import { useEffect } from 'react';
import { Route, Routes } from 'react-router';
import { useServices } from '../app/context';
import { NotFound } from '../pages/NotFound';
import { keepKeysWithSession } from './keyring';
import { Inbox } from './Inbox';
import { OfficialDocument } from './OfficialDocument';

export default function OfficialArea() {
  const { auth } = useServices();
  // the authority's keys go with the session (they stay while the official moves between pages)
  useEffect(() => keepKeysWithSession(auth), [auth]);
  return (
    <Routes>
      <Route index element={<Inbox />} />
      <Route path="documents/:id" element={<OfficialDocument />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
